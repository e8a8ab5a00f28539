"""Generated code of the worker wire, package pprocd.wire.v1 (proto/pprocd/wire/v1).

Made by clients/python/scripts/regen; do not edit the *_pb2* modules by hand.
"""

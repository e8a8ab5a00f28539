"""Generated code of the pprocd contract, package pprocd.v1 (proto/pprocd/v1).

Made by clients/python/scripts/regen; do not edit the *_pb2* modules by hand.
"""

// JSON values to and from google.protobuf.Value.
import type { Value, Value__Output } from "./generated/types/google/protobuf/Value";

/** A JSON value: what callables take and return. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export function toValue(v: unknown, where = "value"): Value {
  if (v === null) return { nullValue: "NULL_VALUE" as never };
  switch (typeof v) {
    case "boolean":
      return { boolValue: v };
    case "number":
      if (!Number.isFinite(v)) throw new TypeError(`${where}: ${v} is not a JSON number`);
      return { numberValue: v };
    case "bigint":
      return { numberValue: Number(v) };
    case "string":
      return { stringValue: v };
    case "object":
      if (Array.isArray(v)) return { listValue: { values: v.map((x, i) => toValue(x, `${where}[${i}]`)) } };
      if (typeof (v as { toJSON?: unknown }).toJSON === "function") {
        return toValue((v as { toJSON: () => unknown }).toJSON(), where);
      }
      return {
        structValue: {
          fields: Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, toValue(x, `${where}.${k}`)])),
        },
      };
  }
  throw new TypeError(`${where}: a ${typeof v} is not a JSON value`);
}

const KINDS = ["numberValue", "stringValue", "boolValue", "listValue", "structValue"] as const;

export function fromValue(v: Value__Output | null | undefined): JsonValue {
  if (!v) return null;
  const kind = v.kind ?? KINDS.find((k) => v[k] !== undefined && v[k] !== null);
  switch (kind) {
    case "numberValue":
      return v.numberValue ?? 0;
    case "stringValue":
      return v.stringValue ?? "";
    case "boolValue":
      return v.boolValue ?? false;
    case "listValue":
      return (v.listValue?.values ?? []).map(fromValue);
    case "structValue": {
      const out: { [key: string]: JsonValue } = {};
      for (const [k, x] of Object.entries(v.structValue?.fields ?? {})) out[k] = fromValue(x);
      return out;
    }
    default:
      return null;
  }
}

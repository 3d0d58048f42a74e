/**
 * What `JSON.parse(JSON.stringify(value))` gives, for a value the caller has just serialised without error,
 * built without the text when the value is plain data: objects with Object's (or no) prototype, arrays,
 * strings, booleans, null and finite numbers (−0 becomes 0, as in JSON). Anything else (a toJSON, a class
 * instance, undefined or a function inside, NaN or ±Infinity, very deep nesting) returns NOT_PLAIN: the
 * caller parses the text then. A sim host's meta is copied on every message; parsing dominated that.
 */
export const NOT_PLAIN: unique symbol = Symbol('not plain data');

const MAX_DEPTH = 32;

export function copyPlainData(value: unknown, depth = 0): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value + 0 : NOT_PLAIN;
    case 'object':
      break;
    default:
      return NOT_PLAIN;
  }
  if (value === null) return null;
  if (depth >= MAX_DEPTH) return NOT_PLAIN;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return NOT_PLAIN;
    const copy = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      const item = copyPlainData(value[i], depth + 1);
      if (item === NOT_PLAIN) return NOT_PLAIN;
      copy[i] = item;
    }
    return copy;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return NOT_PLAIN;
  const source = value as Record<string, unknown>;
  if ('toJSON' in source) return NOT_PLAIN;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    // JSON.parse makes "__proto__" an own property; an assignment would set the prototype instead.
    if (key === '__proto__') return NOT_PLAIN;
    const item = copyPlainData(source[key], depth + 1);
    if (item === NOT_PLAIN) return NOT_PLAIN;
    copy[key] = item;
  }
  return copy;
}

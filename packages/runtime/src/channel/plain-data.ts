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

/**
 * What `structuredClone(value)` gives, built directly when the value is a tree of plain objects, arrays and
 * primitives (numbers keep −0 and NaN; arrays of primitives keep their holes), by structuredClone for
 * anything else. A sim host copies every actor's config and stats as a thread boundary would; at hundreds
 * of actors, structuredClone's generic serialiser dominated start and stats. A value reached twice is
 * copied twice (structuredClone keeps it shared): hosts copy trees.
 */
export function clonePlainData<T>(value: T): T {
  const copy = cloneTree(value, 0);
  return copy === NOT_PLAIN ? structuredClone(value) : (copy as T);
}

function cloneTree(value: unknown, depth: number): unknown {
  if (typeof value !== 'object') return typeof value === 'function' || typeof value === 'symbol' ? NOT_PLAIN : value;
  if (value === null) return null;
  if (depth >= MAX_DEPTH) return NOT_PLAIN;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return NOT_PLAIN;
    let primitives = true;
    for (let i = 0; i < value.length && primitives; i++) {
      const item: unknown = value[i];
      primitives = (typeof item !== 'object' || item === null) && typeof item !== 'function' && typeof item !== 'symbol';
    }
    if (primitives) return value.slice();
    const copy: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      if (value[i] === undefined && !(i in value)) return NOT_PLAIN;
      const item = cloneTree(value[i], depth + 1);
      if (item === NOT_PLAIN) return NOT_PLAIN;
      copy.push(item);
    }
    return copy;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return NOT_PLAIN;
  const source = value as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    if (key === '__proto__') return NOT_PLAIN;
    const item = cloneTree(source[key], depth + 1);
    if (item === NOT_PLAIN) return NOT_PLAIN;
    copy[key] = item;
  }
  return copy;
}

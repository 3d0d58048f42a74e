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
  // for-in over own keys is Object.keys' order without the array Object.keys makes (a meta is copied per message).
  for (const key in source) {
    if (!Object.hasOwn(source, key)) continue;
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

/**
 * A deep-frozen copy of plain data (as clonePlainData copies it), or NOT_PLAIN: one copy that several readers
 * share, none of them able to change what the others see.
 */
export function frozenPlainCopy<T>(value: T): T | typeof NOT_PLAIN {
  const copy = cloneTree(value, 0);
  if (copy !== NOT_PLAIN) freezeTree(copy);
  return copy as T | typeof NOT_PLAIN;
}

function freezeTree(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const key in value) freezeTree((value as Record<string, unknown>)[key]);
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
  for (const key in source) {
    if (!Object.hasOwn(source, key)) continue;
    if (key === '__proto__') return NOT_PLAIN;
    const item = cloneTree(source[key], depth + 1);
    if (item === NOT_PLAIN) return NOT_PLAIN;
    copy[key] = item;
  }
  return copy;
}

/**
 * The UTF-8 byte length of `JSON.stringify(value)`, counted without building the text, for the values
 * copyPlainData copies; undefined for the others (the caller serialises those). A sim host measures every
 * message's meta to charge its link; serialising it only to count its bytes dominated a small message.
 */
export function plainJsonBytes(value: unknown, depth = 0): number | undefined {
  switch (typeof value) {
    case 'string':
      return stringJsonBytes(value);
    case 'boolean':
      return value ? 4 : 5;
    case 'number':
      return Number.isFinite(value) ? numberJsonBytes(value) : undefined;
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null) return 4;
  if (depth >= MAX_DEPTH) return undefined;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return undefined;
    // "[", "]", and a comma between items
    let bytes = value.length > 0 ? value.length + 1 : 2;
    for (let i = 0; i < value.length; i++) {
      const item = plainJsonBytes(value[i], depth + 1);
      if (item === undefined) return undefined;
      bytes += item;
    }
    return bytes;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return undefined;
  const source = value as Record<string, unknown>;
  if ('toJSON' in source) return undefined;
  // "{", "}", a comma between members, and a colon in each (own keys by for-in: no array made per object)
  let members = 0;
  let bytes = 0;
  for (const key in source) {
    if (!Object.hasOwn(source, key)) continue;
    if (key === '__proto__') return undefined;
    const item = plainJsonBytes(source[key], depth + 1);
    if (item === undefined) return undefined;
    bytes += stringJsonBytes(key) + item;
    members++;
  }
  return bytes + (members > 0 ? 2 * members + 1 : 2);
}

/** JSON writes a finite number as its shortest round-trip text (−0 as 0): digits counted for integers below 1e21. */
function numberJsonBytes(value: number): number {
  if (!Number.isInteger(value) || Math.abs(value) >= 1e21) return String(value).length;
  let digits = 1;
  const magnitude = Math.abs(value);
  for (let power = 10; magnitude >= power; power *= 10) digits++;
  return value < 0 ? digits + 1 : digits;
}

/** Quotes and the characters, for printable ASCII that needs no escape; else the escaped text's UTF-8 bytes. */
function stringJsonBytes(value: string): number {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return Buffer.byteLength(JSON.stringify(value), 'utf8');
  }
  return value.length + 2;
}

import { freemem } from 'node:os';
import { type DType, bytesPerElement, decodeToF32, encodeFromF32, isDType } from './dtype.ts';

export type TensorData = Float32Array | Uint16Array;

/** What crosses a thread boundary: the shared buffer travels without a copy, the rest is a few numbers. */
export interface TensorDescriptor {
  readonly buffer: SharedArrayBuffer | ArrayBuffer;
  readonly byteOffset: number;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** Elements of a shape; a negative or fractional dimension is an error naming the shape. */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  // Indexed, not for-of: a frozen shape's iterator is allocated on every call, and tensors are made per message.
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`Tensor: bad dimension ${d} in shape [${shape.join(', ')}]`);
    n *= d;
  }
  if (!Number.isSafeInteger(n)) throw new RangeError(`Tensor: shape [${shape.join(', ')}] has more elements than can be addressed`);
  return n;
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}

/**
 * A fresh SharedArrayBuffer of `bytes`, or an error that says who asked for how much and what memory was free
 * (V8 says only "Array buffer allocation failed").
 */
export function allocateShared(bytes: number, what: string): SharedArrayBuffer {
  try {
    return new SharedArrayBuffer(bytes);
  } catch (error) {
    throw new RangeError(`${what}: cannot allocate ${bytes} bytes (${gib(bytes)}; ${gib(freemem())} of system memory free): ${(error as Error).message}`, {
      cause: error,
    });
  }
}

const NO_BYTES = new SharedArrayBuffer(0);
/**
 * The data of every empty tensor zeros makes, one per storage type: an array of no elements cannot be written,
 * so they share it, as they share NO_BYTES (shape-only rows are made per message when numerics are off).
 */
const NO_F32 = new Float32Array(NO_BYTES, 0, 0);
const NO_U16 = new Uint16Array(NO_BYTES, 0, 0);

// Symbol.for, not Symbol(): a second copy of this module (one file under two URLs) still recognises its tensors.
const TENSOR_BRAND: unique symbol = Symbol.for('asap.tensor');

function view(dtype: DType, buffer: ArrayBufferLike, byteOffset: number, length: number): TensorData {
  if (byteOffset % bytesPerElement(dtype) !== 0) {
    throw new RangeError(`Tensor: byte offset ${byteOffset} is not aligned for ${dtype}`);
  }
  if (byteOffset + length * bytesPerElement(dtype) > buffer.byteLength) {
    throw new RangeError(
      `Tensor: ${length} ${dtype} elements at byte ${byteOffset} run past the buffer end (${buffer.byteLength} bytes)`,
    );
  }
  return dtype === 'f32' ? new Float32Array(buffer, byteOffset, length) : new Uint16Array(buffer, byteOffset, length);
}

function bytesOf(t: Tensor): Uint8Array {
  return new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
}

/**
 * A dense row-major tensor over (usually shared) memory. Row slices are views, never copies, so a
 * tensor can be handed to another worker or a wasm kernel and read in place.
 */
export class Tensor {
  /** `instanceof Tensor` holds for a tensor made by any copy of this module: tensors are recognised by a brand. */
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[TENSOR_BRAND] === true;
  }

  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Storage elements: Float32Array for f32, raw 16-bit patterns for bf16/f16. */
  readonly data: TensorData;

  constructor(shape: readonly number[], dtype: DType, data: TensorData) {
    if (!isDType(dtype)) throw new TypeError(`Tensor: unknown dtype ${String(dtype)}`);
    const n = elementCount(shape);
    if (data.length !== n) {
      throw new RangeError(`Tensor: shape [${shape.join(', ')}] needs ${n} elements, data has ${data.length}`);
    }
    if ((dtype === 'f32') !== data instanceof Float32Array) {
      throw new TypeError(`Tensor: ${dtype} data must be a ${dtype === 'f32' ? 'Float32Array' : 'Uint16Array'}`);
    }
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.data = data;
  }

  /** A zero-filled tensor in a fresh SharedArrayBuffer. */
  static zeros(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const n = elementCount(shape);
    // An empty tensor (a shape-only row set: numerics off) holds no bytes to share or write: one empty
    // buffer and one empty array per storage type serve them all, rather than new ones made (and collected) each time.
    if (n === 0) return new Tensor(shape, dtype, dtype === 'f32' ? NO_F32 : NO_U16);
    return new Tensor(shape, dtype, view(dtype, allocateShared(n * bytesPerElement(dtype), `Tensor.zeros(${dtype} [${shape.join(', ')}])`), 0, n));
  }

  /** Copies f32 values into a new shared tensor of the given dtype (rounding for bf16/f16). */
  static fromF32(values: ArrayLike<number>, shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const t = Tensor.zeros(shape, dtype);
    const src = values instanceof Float32Array ? values : Float32Array.from(values);
    if (src.length !== t.size) {
      throw new RangeError(`Tensor.fromF32: shape [${shape.join(', ')}] needs ${t.size} values, got ${src.length}`);
    }
    encodeFromF32(dtype, src, t.data);
    return t;
  }

  /** A tensor over existing memory (no copy): a worker rebuilding a tensor it was sent, or an arena slot. */
  static over(buffer: ArrayBufferLike, byteOffset: number, shape: readonly number[], dtype: DType): Tensor {
    return new Tensor(shape, dtype, view(dtype, buffer, byteOffset, elementCount(shape)));
  }

  static fromDescriptor(d: TensorDescriptor): Tensor {
    return Tensor.over(d.buffer, d.byteOffset, d.shape, d.dtype);
  }

  get descriptor(): TensorDescriptor {
    return { buffer: this.buffer, byteOffset: this.byteOffset, shape: this.shape, dtype: this.dtype };
  }

  get buffer(): SharedArrayBuffer | ArrayBuffer {
    return this.data.buffer as SharedArrayBuffer | ArrayBuffer;
  }

  get byteOffset(): number {
    return this.data.byteOffset;
  }

  get byteLength(): number {
    return this.data.byteLength;
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Number of rows: the first dimension (1 for a scalar). */
  get rowCount(): number {
    return this.shape.length === 0 ? 1 : this.shape[0];
  }

  /** Elements per row: the product of all dimensions but the first. */
  get rowSize(): number {
    // The shape was checked when the tensor was made: a product, without a copy of the shape per call.
    const shape = this.shape;
    let n = 1;
    for (let i = 1; i < shape.length; i++) n *= shape[i];
    return n;
  }

  /** Rows [start, end) as a view sharing this tensor's memory. */
  rows(start: number, end: number = this.rowCount): Tensor {
    if (this.shape.length === 0) throw new RangeError('Tensor.rows: a scalar has no rows');
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > this.rowCount) {
      throw new RangeError(`Tensor.rows: [${start}, ${end}) is outside 0..${this.rowCount}`);
    }
    const rowSize = this.rowSize;
    const shape = [end - start, ...this.shape.slice(1)];
    return Tensor.over(this.buffer, this.byteOffset + start * rowSize * bytesPerElement(this.dtype), shape, this.dtype);
  }

  /** Row i as a view. */
  row(i: number): Tensor {
    return this.rows(i, i + 1);
  }

  /** Same memory, another shape with the same element count. */
  reshape(shape: readonly number[]): Tensor {
    if (elementCount(shape) !== this.size) {
      throw new RangeError(`Tensor.reshape: [${this.shape.join(', ')}] cannot become [${shape.join(', ')}]`);
    }
    return Tensor.over(this.buffer, this.byteOffset, shape, this.dtype);
  }

  /** The values as f32: the data itself for f32 (no copy), a decoded copy for bf16/f16. */
  toF32(): Float32Array {
    if (this.dtype === 'f32') return this.data as Float32Array;
    const out = new Float32Array(this.size);
    decodeToF32(this.dtype, this.data, out);
    return out;
  }

  /** A copy in a fresh shared buffer, converted to `dtype`. */
  to(dtype: DType): Tensor {
    return Tensor.fromF32(this.toF32(), this.shape, dtype);
  }

  /** A copy in a fresh shared buffer. */
  clone(): Tensor {
    const t = Tensor.zeros(this.shape, this.dtype);
    bytesOf(t).set(bytesOf(this));
    return t;
  }

  toString(): string {
    return `Tensor<${this.dtype}>[${this.shape.join(', ')}]`;
  }
}

Object.defineProperty(Tensor.prototype, TENSOR_BRAND, { value: true });

import { open, type FileHandle } from 'node:fs/promises';
import { Tensor } from '@asap/runtime';
import { CheckpointError } from '../../errors.ts';
import { dtypeFromSafetensors, SUPPORTED_SAFETENSORS_DTYPES } from './dtypes.ts';
import { MAX_HEADER_BYTES, parseSafetensorsHeader, type SafetensorsEntry } from './header.ts';

/**
 * One open .safetensors file. Opening reads only the header; `read` fetches one tensor's byte range with a
 * positional read, so loading a subset never touches the rest of the file.
 */
export class SafetensorsFile {
  readonly path: string;
  readonly entries: ReadonlyMap<string, SafetensorsEntry>;
  readonly metadata: Readonly<Record<string, string>>;
  /** Bytes read from disk so far, header included. */
  bytesRead: number;
  private readonly handle: FileHandle;

  private constructor(
    path: string,
    handle: FileHandle,
    entries: ReadonlyMap<string, SafetensorsEntry>,
    metadata: Readonly<Record<string, string>>,
    bytesRead: number,
  ) {
    this.path = path;
    this.handle = handle;
    this.entries = entries;
    this.metadata = metadata;
    this.bytesRead = bytesRead;
  }

  static async open(path: string): Promise<SafetensorsFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new CheckpointError(path, code === 'ENOENT' ? 'file not found' : `cannot open (${code ?? String(error)})`);
    }
    try {
      const size = (await handle.stat()).size;
      if (size < 8) throw new CheckpointError(path, `truncated: ${size} bytes, shorter than the 8-byte header length`);
      const lengthBytes = Buffer.alloc(8);
      await readExactly(handle, lengthBytes, 0, path);
      const headerLength = lengthBytes.readBigUInt64LE(0);
      if (headerLength > BigInt(MAX_HEADER_BYTES)) {
        throw new CheckpointError(path, `header length ${headerLength} exceeds the format's 100 MB limit: not a safetensors file`);
      }
      if (headerLength > BigInt(size - 8)) {
        throw new CheckpointError(
          path,
          `truncated: header length ${headerLength} points past the end of the file (${size} bytes)`,
        );
      }
      const headerBytes = Buffer.alloc(Number(headerLength));
      await readExactly(handle, headerBytes, 8, path);
      const dataStart = 8 + headerBytes.length;
      const { entries, metadata } = parseSafetensorsHeader(headerBytes.toString('utf8'), dataStart, size, path);
      return new SafetensorsFile(path, handle, entries, metadata, dataStart);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  entry(name: string): SafetensorsEntry {
    const entry = this.entries.get(name);
    if (!entry) throw new CheckpointError(this.path, `missing tensor ${name}`);
    return entry;
  }

  /** Reads one tensor into a fresh shared buffer, in its stored dtype (F32, F16 or BF16). */
  async read(name: string): Promise<Tensor> {
    const entry = this.entry(name);
    const dtype = dtypeFromSafetensors(entry.dtypeName);
    if (!dtype) {
      throw new CheckpointError(
        this.path,
        `tensor ${name} has unsupported dtype ${entry.dtypeName} (supported: ${SUPPORTED_SAFETENSORS_DTYPES.join(', ')})`,
      );
    }
    const tensor = Tensor.zeros(entry.shape, dtype);
    await readExactly(this.handle, new Uint8Array(tensor.buffer, tensor.byteOffset, tensor.byteLength), entry.begin, this.path);
    this.bytesRead += tensor.byteLength;
    const bad = firstNonFinite(tensor);
    if (bad >= 0) {
      throw new CheckpointError(this.path, `tensor ${name} holds ${describeValue(tensor, bad)} at element ${bad}: weights must be finite`);
    }
    return tensor;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Index of the first NaN or infinite element, or -1 (16-bit dtypes by their bits: an all-ones exponent). */
function firstNonFinite(t: Tensor): number {
  if (t.dtype === 'f32') {
    const data = t.data as Float32Array;
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
    return -1;
  }
  const exponent = t.dtype === 'bf16' ? 0x7f80 : 0x7c00;
  const bits = t.data as Uint16Array;
  for (let i = 0; i < bits.length; i++) if ((bits[i] & exponent) === exponent) return i;
  return -1;
}

function describeValue(t: Tensor, i: number): string {
  const v = t.toF32()[i];
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

async function readExactly(handle: FileHandle, target: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const { bytesRead } = await handle.read(target, done, target.length - done, position + done);
    if (bytesRead === 0) {
      throw new CheckpointError(path, `truncated: ended at byte ${position + done}, expected ${position + target.length}`);
    }
    done += bytesRead;
  }
}

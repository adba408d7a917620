// Reading and writing the safetensors format: an 8-byte little-endian header length, a JSON header
// that maps each tensor name to { dtype, shape, data_offsets } (plus an optional `__metadata__`
// string map), then the raw little-endian tensor data. Offsets are relative to the end of the header.
// We write F32 only; on read, F16, BF16 and F64 are converted to float32.

import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

import { formatShape, numel } from '../ir/graph.ts';
import type { Tensor, TensorMap } from './tensor.ts';

/** A safetensors file or buffer that cannot be read or a tensor map that cannot be written. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

const METADATA_KEY = '__metadata__';

/** Bytes per element of each dtype we can read. */
const DTYPE_SIZES: Record<string, number> = { F16: 2, BF16: 2, F32: 4, F64: 8 };

/** Known safetensors dtypes that this reader rejects because a trainer only needs float tensors. */
const UNSUPPORTED_DTYPES = new Set(['BOOL', 'U8', 'I8', 'U16', 'I16', 'U32', 'I32', 'U64', 'I64', 'F8_E4M3', 'F8_E5M2']);

/** Maximum header size we accept. The format sets no limit, but 100 MB of JSON means a corrupt length field. */
const MAX_HEADER_BYTES = 100_000_000;

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** Encodes tensors as float32 safetensors, sorted by name, with an optional metadata string map. */
export function encodeSafetensors(tensors: TensorMap, metadata?: Record<string, string>): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header = Object.create(null) as Record<string, unknown>;
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') {
        throw new SafetensorsError(`metadata value for '${key}' must be a string, got ${typeof value}`);
      }
    }
    header[METADATA_KEY] = { ...metadata };
  }

  let offset = 0;
  for (const name of names) {
    const t = tensors[name]!;
    checkTensorForWrite(name, t);
    const bytes = t.data.length * 4;
    header[name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }

  // Padding the header with spaces to a multiple of 8 bytes keeps the data section aligned for
  // readers that map the file and view it as float arrays in place.
  let headerText = JSON.stringify(header);
  const headerBytesUnpadded = new TextEncoder().encode(headerText).length;
  headerText += ' '.repeat((8 - (headerBytesUnpadded % 8)) % 8);
  const headerBytes = new TextEncoder().encode(headerText);

  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);

  let position = 8 + headerBytes.length;
  for (const name of names) {
    writeFloat32LittleEndian(out, position, tensors[name]!.data);
    position += tensors[name]!.data.length * 4;
  }
  return out;
}

/**
 * Decodes a safetensors buffer into float32 tensors and its metadata. `name` labels the source in
 * error messages (a file path for readSafetensors).
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  name = '<buffer>',
): { tensors: TensorMap; metadata: Record<string, string> } {
  const fail = (message: string): never => {
    throw new SafetensorsError(`${name}: ${message}`);
  };

  if (bytes.length < 8) {
    fail(`truncated file: ${bytes.length} bytes, shorter than the 8-byte header length field`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8)) {
    fail(`truncated file: header length is ${headerLength} bytes but only ${bytes.length - 8} bytes follow`);
  }
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    fail(`invalid header length ${headerLength} (more than ${MAX_HEADER_BYTES} bytes)`);
  }
  const headerEnd = 8 + Number(headerLength);

  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, headerEnd)));
  } catch (error) {
    fail(`invalid header: not UTF-8 JSON (${(error as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    fail('invalid header: expected a JSON object');
  }

  const dataLength = bytes.length - headerEnd;
  // Null-prototype maps keep a tensor named `__proto__` an ordinary entry.
  const tensors: TensorMap = Object.create(null) as TensorMap;
  let metadata: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, entry] of Object.entries(header as Record<string, unknown>)) {
    if (key === METADATA_KEY) {
      metadata = parseMetadata(entry, fail);
      continue;
    }
    const { dtype, shape, begin, end } = parseEntry(key, entry, fail);
    if (end > dataLength) {
      fail(
        `tensor '${key}': data_offsets [${begin}, ${end}] exceed the data section of ${dataLength} bytes (truncated file?)`,
      );
    }
    const expectedBytes = numel(shape) * DTYPE_SIZES[dtype]!;
    if (end - begin !== expectedBytes) {
      fail(
        `tensor '${key}': data_offsets [${begin}, ${end}] span ${end - begin} bytes but ${dtype} ${formatShape(shape)} needs ${expectedBytes}`,
      );
    }
    tensors[key] = { shape, data: toFloat32(bytes, headerEnd + begin, numel(shape), dtype) };
  }
  return { tensors, metadata };
}

/**
 * Writes tensors as float32 safetensors. The bytes go to `path.tmp-<pid>` first and are renamed over
 * `path`, so a crash mid-write leaves the previous file (or none), never a partial one.
 */
export function writeSafetensors(path: string, tensors: TensorMap, metadata?: Record<string, string>): void {
  const bytes = encodeSafetensors(tensors, metadata);
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(temporary, bytes);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new SafetensorsError(`failed to write ${path}: ${(error as Error).message}`);
  }
}

/** Reads a safetensors file. Errors name the file and, where one is at fault, the tensor. */
export function readSafetensors(path: string): { tensors: TensorMap; metadata: Record<string, string> } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SafetensorsError(`${path}: file not found`);
    if (code === 'EISDIR') throw new SafetensorsError(`${path}: is a directory, expected a .safetensors file`);
    throw new SafetensorsError(`${path}: failed to read (${(error as Error).message})`);
  }
  return decodeSafetensors(bytes, path);
}

function checkTensorForWrite(name: string, t: Tensor): void {
  if (name === METADATA_KEY || name.length === 0) {
    throw new SafetensorsError(`invalid tensor name '${name}'`);
  }
  if (!(t.data instanceof Float32Array)) {
    throw new SafetensorsError(`tensor '${name}': data must be a Float32Array`);
  }
  if (!t.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new SafetensorsError(`tensor '${name}': invalid shape ${formatShape(t.shape)}`);
  }
  if (numel(t.shape) !== t.data.length) {
    throw new SafetensorsError(
      `tensor '${name}': shape ${formatShape(t.shape)} has ${numel(t.shape)} elements but data has ${t.data.length}`,
    );
  }
}

function parseMetadata(entry: unknown, fail: (message: string) => never): Record<string, string> {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    fail(`invalid header: ${METADATA_KEY} must be an object of strings`);
  }
  const metadata: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, value] of Object.entries(entry as Record<string, unknown>)) {
    if (typeof value !== 'string') fail(`invalid header: ${METADATA_KEY} value for '${key}' is not a string`);
    metadata[key] = value as string;
  }
  return metadata;
}

function parseEntry(
  key: string,
  entry: unknown,
  fail: (message: string) => never,
): { dtype: string; shape: number[]; begin: number; end: number } {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    fail(`invalid header: entry for tensor '${key}' is not an object`);
  }
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== 'string') fail(`invalid header: tensor '${key}' has no dtype`);
  if (!((dtype as string) in DTYPE_SIZES)) {
    const known = UNSUPPORTED_DTYPES.has(dtype as string) ? 'unsupported' : 'unknown';
    fail(`tensor '${key}': ${known} dtype '${dtype}' (supported: F32, F16, BF16, F64)`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`invalid header: tensor '${key}' has an invalid shape ${JSON.stringify(shape)}`);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    fail(`invalid header: tensor '${key}' has invalid data_offsets ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  return { dtype: dtype as string, shape: shape as number[], begin, end };
}

function writeFloat32LittleEndian(out: Uint8Array, position: number, data: Float32Array): void {
  if (HOST_IS_LITTLE_ENDIAN) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), position);
    return;
  }
  const view = new DataView(out.buffer, out.byteOffset + position, data.length * 4);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i]!, true);
}

function toFloat32(bytes: Uint8Array, position: number, count: number, dtype: string): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset + position, count * DTYPE_SIZES[dtype]!);
  switch (dtype) {
    case 'F32':
      if (HOST_IS_LITTLE_ENDIAN) {
        // A byte copy, because `position` need not be 4-byte aligned for a Float32Array view.
        new Uint8Array(out.buffer).set(bytes.subarray(position, position + count * 4));
      } else {
        for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      }
      break;
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      break;
    case 'BF16':
      // bfloat16 is the top half of a float32 bit pattern.
      {
        const bits = new Uint32Array(out.buffer);
        for (let i = 0; i < count; i++) bits[i] = view.getUint16(i * 2, true) << 16;
      }
      break;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      break;
    default:
      throw new SafetensorsError(`internal error: no conversion for dtype ${dtype}`);
  }
  return out;
}

/** Converts IEEE 754 binary16 bits to a number, including subnormals, infinities and NaN. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  SafetensorsError,
  writeSafetensors,
} from '../../src/runtime/safetensors.ts';
import { tensor } from '../../src/runtime/tensor.ts';

/** Builds a safetensors buffer from a header object and the raw data section. */
function rawFile(header: object, data: number[] | Uint8Array): Uint8Array {
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + headerBytes.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  out.set(data, 8 + headerBytes.length);
  return out;
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sganc-safetensors-'));
}

describe('safetensors', () => {
  it('round trips tensors and metadata', () => {
    const tensors = {
      'b.weight': tensor([2, 3], [1, 2, 3, 4, 5, 6]),
      'a.bias': tensor([3], [-0.5, 1e-30, 3.4e38]),
      scalar: tensor([], [7]),
      empty: tensor([0, 4]),
    };
    const decoded = decodeSafetensors(encodeSafetensors(tensors, { step: '12', format: 'pt' }));
    expect(Object.keys(decoded.tensors).sort()).toEqual(['a.bias', 'b.weight', 'empty', 'scalar']);
    for (const [name, t] of Object.entries(tensors)) {
      expect(decoded.tensors[name]!.shape).toEqual(t.shape);
      expect(Array.from(decoded.tensors[name]!.data)).toEqual(Array.from(t.data));
    }
    expect(decoded.metadata).toEqual({ step: '12', format: 'pt' });
  });

  it('lays out a tiny file byte by byte', () => {
    const bytes = encodeSafetensors({ a: tensor([2], [1, -2]) });
    const header = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    // 54 bytes of JSON, padded with two spaces to 56 so the data starts 8-byte aligned.
    expect(bytes.length).toBe(8 + 56 + 8);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([56, 0, 0, 0, 0, 0, 0, 0]);
    expect(new TextDecoder().decode(bytes.subarray(8, 64))).toBe(header + '  ');
    // 1.0f is 0x3f800000 and -2.0f is 0xc0000000, stored little-endian.
    expect(Array.from(bytes.subarray(64))).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
  });

  it('sorts tensors by name in the data section', () => {
    const bytes = encodeSafetensors({ z: tensor([1], [2]), a: tensor([1], [1]) });
    const { tensors } = decodeSafetensors(bytes);
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
    expect(header.a.data_offsets).toEqual([0, 4]);
    expect(header.z.data_offsets).toEqual([4, 8]);
    expect(tensors.z!.data[0]).toBe(2);
  });

  it('reads F16, BF16 and F64 as float32', () => {
    const data = new Uint8Array(10 + 4 + 8);
    const view = new DataView(data.buffer);
    // F16: 1, -2, 1/3 rounded to 0x3555, the smallest subnormal 2^-24, +infinity.
    [0x3c00, 0xc000, 0x3555, 0x0001, 0x7c00].forEach((bits, i) => view.setUint16(i * 2, bits, true));
    // BF16: 1.0 and -3.0 are the top halves of 0x3f800000 and 0xc0400000.
    view.setUint16(10, 0x3f80, true);
    view.setUint16(12, 0xc040, true);
    view.setFloat64(14, 0.1, true);
    const bytes = rawFile(
      {
        half: { dtype: 'F16', shape: [5], data_offsets: [0, 10] },
        brain: { dtype: 'BF16', shape: [2], data_offsets: [10, 14] },
        double: { dtype: 'F64', shape: [1, 1], data_offsets: [14, 22] },
      },
      data,
    );
    const { tensors } = decodeSafetensors(bytes);
    // 0x3555: exponent 13 - 15 = -2, fraction 0x155 = 341, so (1 + 341/1024) / 4 = 1365/4096.
    expect(Array.from(tensors.half!.data)).toEqual([1, -2, 1365 / 4096, 2 ** -24, Infinity]);
    expect(Array.from(tensors.brain!.data)).toEqual([1, -3]);
    expect(tensors.double!.shape).toEqual([1, 1]);
    expect(tensors.double!.data[0]).toBe(Math.fround(0.1));
  });

  it('writes through a temporary file', () => {
    const dir = tempDir();
    const path = join(dir, 'nested', 'ckpt.safetensors');
    writeSafetensors(path, { w: tensor([2, 2], [1, 2, 3, 4]) }, { kimg: '1.5' });
    expect(readdirSync(join(dir, 'nested'))).toEqual(['ckpt.safetensors']);
    const { tensors, metadata } = readSafetensors(path);
    expect(Array.from(tensors.w!.data)).toEqual([1, 2, 3, 4]);
    expect(metadata).toEqual({ kimg: '1.5' });

    writeSafetensors(path, { w: tensor([1], [9]) });
    expect(readSafetensors(path).tensors.w!.data[0]).toBe(9);
    expect(readdirSync(join(dir, 'nested'))).toEqual(['ckpt.safetensors']);
  });

  it('rejects a missing file', () => {
    const path = join(tempDir(), 'absent.safetensors');
    expect(() => readSafetensors(path)).toThrow(SafetensorsError);
    expect(() => readSafetensors(path)).toThrow(`${path}: file not found`);
  });

  it('rejects truncated files', () => {
    const dir = tempDir();
    const full = encodeSafetensors({ weight: tensor([4], [1, 2, 3, 4]) });

    const tiny = join(dir, 'tiny.safetensors');
    writeFileSync(tiny, full.subarray(0, 5));
    expect(() => readSafetensors(tiny)).toThrow(/tiny\.safetensors: truncated file: 5 bytes/);

    const inHeader = join(dir, 'header.safetensors');
    writeFileSync(inHeader, full.subarray(0, 20));
    expect(() => readSafetensors(inHeader)).toThrow(/header\.safetensors: truncated file: header length/);

    const inData = join(dir, 'data.safetensors');
    writeFileSync(inData, full.subarray(0, full.length - 3));
    expect(() => readSafetensors(inData)).toThrow(/data\.safetensors: tensor 'weight'.*exceed the data section of 13 bytes/);
  });

  it('rejects bad headers', () => {
    const notJson = new Uint8Array(8 + 4);
    notJson[0] = 4;
    notJson.set(new TextEncoder().encode('{abc'), 8);
    expect(() => decodeSafetensors(notJson, 'x.st')).toThrow(/x\.st: invalid header: not UTF-8 JSON/);

    expect(() => decodeSafetensors(rawFile([1, 2], []))).toThrow(/expected a JSON object/);
    expect(() => decodeSafetensors(rawFile({ t: 3 }, []))).toThrow(/entry for tensor 't' is not an object/);
    expect(() => decodeSafetensors(rawFile({ t: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } }, []))).toThrow(
      /tensor 't' has an invalid shape/,
    );
    expect(() => decodeSafetensors(rawFile({ t: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, []))).toThrow(
      /tensor 't' has invalid data_offsets/,
    );
    expect(() => decodeSafetensors(rawFile({ __metadata__: { a: 1 } }, []))).toThrow(/__metadata__ value for 'a'/);

    const hugeLength = new Uint8Array(16);
    new DataView(hugeLength.buffer).setBigUint64(0, 2n ** 62n, true);
    expect(() => decodeSafetensors(hugeLength)).toThrow(/truncated file: header length/);
  });

  it('rejects offsets out of range', () => {
    const bytes = rawFile({ w: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, [0, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => decodeSafetensors(bytes, 'w.st')).toThrow(
      "w.st: tensor 'w': data_offsets [4, 12] exceed the data section of 8 bytes (truncated file?)",
    );
    const wrongSize = rawFile({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, [0, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => decodeSafetensors(wrongSize)).toThrow(/tensor 'w'.*span 8 bytes but F32 \[3\] needs 12/);
  });

  it('rejects unknown and integer dtypes', () => {
    const unknown = rawFile({ w: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, [0]);
    expect(() => decodeSafetensors(unknown, 'q.st')).toThrow("q.st: tensor 'w': unknown dtype 'Q4'");
    const integer = rawFile({ ids: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8));
    expect(() => decodeSafetensors(integer)).toThrow("tensor 'ids': unsupported dtype 'I64'");
  });

  it('rejects invalid tensors on write', () => {
    expect(() => encodeSafetensors({ w: { shape: [3], data: new Float32Array(2) } })).toThrow(
      "tensor 'w': shape [3] has 3 elements but data has 2",
    );
    expect(() => encodeSafetensors({ __metadata__: tensor([1]) })).toThrow(/invalid tensor name/);
  });
});

describe('safetensors names', () => {
  it('keeps a tensor named __proto__', () => {
    // With no prototype, assigning __proto__ creates an ordinary own entry.
    const map = Object.create(null) as Record<string, ReturnType<typeof tensor>>;
    map['__proto__'] = tensor([2], [1, 2]);
    const decoded = decodeSafetensors(encodeSafetensors(map, JSON.parse('{"__proto__": "m"}') as Record<string, string>));
    expect(Object.keys(decoded.tensors)).toEqual(['__proto__']);
    expect(Array.from(decoded.tensors['__proto__']!.data)).toEqual([1, 2]);
    expect(decoded.metadata['__proto__']).toBe('m');
  });
});

describe('safetensors properties', () => {
  it('round trips any float32 tensors', () => {
    const shapeArbitrary = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 });
    const tensorArbitrary = shapeArbitrary.chain((shape) =>
      fc
        .float32Array({ minLength: shape.reduce((a, b) => a * b, 1), maxLength: shape.reduce((a, b) => a * b, 1) })
        .map((data) => ({ shape, data })),
    );
    const nameArbitrary = fc.string({ minLength: 1, maxLength: 12 }).filter((name) => name !== '__metadata__');
    fc.assert(
      fc.property(
        fc.dictionary(nameArbitrary, tensorArbitrary, { maxKeys: 5 }),
        fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
        (tensors, metadata) => {
          const bytes = encodeSafetensors(tensors, metadata);
          const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
          expect(headerLength % 8).toBe(0);
          const decoded = decodeSafetensors(bytes);
          expect(Object.keys(decoded.tensors).sort()).toEqual(Object.keys(tensors).sort());
          for (const [name, t] of Object.entries(tensors)) {
            expect(decoded.tensors[name]!.shape).toEqual(t.shape);
            // Comparing bit patterns keeps NaN payloads and -0 honest.
            expect(new Uint32Array(decoded.tensors[name]!.data.buffer)).toEqual(new Uint32Array(t.data.slice().buffer));
          }
          expect(decoded.metadata).toEqual(Object.keys(metadata).length > 0 ? metadata : {});
        },
      ),
    );
  });
});

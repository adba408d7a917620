// sganc kernel k1_sum_add: row [2, 4, 4, 4]
// in0 = b4 [] (input key)
// in1 = b3 [2, 4, 4, 4] (kernel)
// out0 = b5 [2, 4, 4, 4] (kernel)

@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read_write> in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> out0: array<f32>;

const WORKGROUP_SIZE: u32 = 16u;
const GRID_X: u32 = 8u;
const GRID_Y: u32 = 1u;

fn randn_at(key: u32, stream: u32, index: u32) -> f32 {
  let ks0 = key;
  let ks1 = stream;
  let ks2 = 0x1bd11bdau ^ key ^ stream;
  var x0 = index + ks0;
  var x1 = ks1;
  x0 += x1; x1 = ((x1 << 13u) | (x1 >> 19u)) ^ x0;
  x0 += x1; x1 = ((x1 << 15u) | (x1 >> 17u)) ^ x0;
  x0 += x1; x1 = ((x1 << 26u) | (x1 >> 6u)) ^ x0;
  x0 += x1; x1 = ((x1 << 6u) | (x1 >> 26u)) ^ x0;
  x0 += ks1; x1 += ks2 + 1u;
  x0 += x1; x1 = ((x1 << 17u) | (x1 >> 15u)) ^ x0;
  x0 += x1; x1 = ((x1 << 29u) | (x1 >> 3u)) ^ x0;
  x0 += x1; x1 = ((x1 << 16u) | (x1 >> 16u)) ^ x0;
  x0 += x1; x1 = ((x1 << 24u) | (x1 >> 8u)) ^ x0;
  x0 += ks2; x1 += ks0 + 2u;
  x0 += x1; x1 = ((x1 << 13u) | (x1 >> 19u)) ^ x0;
  x0 += x1; x1 = ((x1 << 15u) | (x1 >> 17u)) ^ x0;
  x0 += x1; x1 = ((x1 << 26u) | (x1 >> 6u)) ^ x0;
  x0 += x1; x1 = ((x1 << 6u) | (x1 >> 26u)) ^ x0;
  x0 += ks0; x1 += ks1 + 3u;
  x0 += x1; x1 = ((x1 << 17u) | (x1 >> 15u)) ^ x0;
  x0 += x1; x1 = ((x1 << 29u) | (x1 >> 3u)) ^ x0;
  x0 += x1; x1 = ((x1 << 16u) | (x1 >> 16u)) ^ x0;
  x0 += x1; x1 = ((x1 << 24u) | (x1 >> 8u)) ^ x0;
  x0 += ks1; x1 += ks2 + 4u;
  x0 += x1; x1 = ((x1 << 13u) | (x1 >> 19u)) ^ x0;
  x0 += x1; x1 = ((x1 << 15u) | (x1 >> 17u)) ^ x0;
  x0 += x1; x1 = ((x1 << 26u) | (x1 >> 6u)) ^ x0;
  x0 += x1; x1 = ((x1 << 6u) | (x1 >> 26u)) ^ x0;
  x0 += ks2; x1 += ks0 + 5u;
  let u0 = f32((x0 >> 8u) + 1u) * 5.9604644775390625e-8f;
  let u1 = f32((x1 >> 8u) + 1u) * 5.9604644775390625e-8f;
  var log_u0 = log(u0);
  if (u0 >= 0.5) {
    let s = (u0 - 1.0) / (u0 + 1.0);
    let s2 = s * s;
    var series = 1.0 / 17.0;
    for (var k = 15; k >= 1; k -= 2) { series = series * s2 + 1.0 / f32(k); }
    log_u0 = 2.0 * s * series;
  }
  return sqrt(-2.0 * log_u0) * -cos(6.2831853071795864f * (u1 - 0.5));
}

var<workgroup> partial: array<f32, 16>;
var<workgroup> row_result2: f32;
var<workgroup> row_result8: f32;

fn expr0(i: u32) -> f32 {
  let v0 = in0[i];
  return v0;
}

fn expr1(i: u32) -> f32 {
  let v1 = in1[i];
  return v1;
}

fn expr4(i: u32) -> f32 {
  let v2 = row_result2;
  let v3 = 0.0625f;
  let v4 = v2 * v3;
  return v4;
}

fn expr7(i: u32) -> f32 {
  let v1 = in1[i];
  let v5 = expr4(u32(0 + i32((i / 64u)) * 4 + i32((i / 16u) % 4u) * 1));
  let v6 = v1 - v5;
  let v7 = v6 * v6;
  return v7;
}

fn expr12(i: u32) -> f32 {
  let v8 = row_result8;
  let v3 = 0.0625f;
  let v9 = v8 * v3;
  let v10 = 9.99999993922529e-9f;
  let v11 = v9 + v10;
  let v12 = 1.0 / sqrt(v11);
  return v12;
}

fn expr16(i: u32) -> f32 {
  let v1 = in1[i];
  let v5 = expr4(u32(0 + i32((i / 64u)) * 4 + i32((i / 16u) % 4u) * 1));
  let v6 = v1 - v5;
  let v13 = expr12(u32(0 + i32((i / 64u)) * 4 + i32((i / 16u) % 4u) * 1));
  let v14 = v6 * v13;
  let v15 = randn_at(u32(expr0(0u)), 3u, i);
  let v16 = v14 + v15;
  return v16;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroup: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let group = workgroup.x + (workgroup.y + workgroup.z * GRID_Y) * GRID_X;
  let row = group;
  if (row >= 8u) { return; }
  {
    var acc = 0.0;
    for (var t = local; t < 16u; t += WORKGROUP_SIZE) {
      let value = expr1(row * 16u + t);
      acc = acc + value;
    }
    partial[local] = acc;
    workgroupBarrier();
    for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride >>= 1u) {
      if (local < stride) { partial[local] = partial[local] + partial[local + stride]; }
      workgroupBarrier();
    }
    if (local == 0u) { row_result2 = partial[0]; }
    workgroupBarrier();
  }
  {
    var acc = 0.0;
    for (var t = local; t < 16u; t += WORKGROUP_SIZE) {
      let value = expr7(row * 16u + t);
      acc = acc + value;
    }
    partial[local] = acc;
    workgroupBarrier();
    for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride >>= 1u) {
      if (local < stride) { partial[local] = partial[local] + partial[local + stride]; }
      workgroupBarrier();
    }
    if (local == 0u) { row_result8 = partial[0]; }
    workgroupBarrier();
  }
  for (var t = local; t < 16u; t += WORKGROUP_SIZE) {
    let i = row * 16u + t;
    out0[i] = expr16(i);
  }
}

// sganc kernel k0_matmul_lrelu: contraction [32, 48]
// in0 = b0 [32, 64] (input a)
// in1 = b1 [64, 48] (input b)
// out0 = b2 [32, 48] (kernel)

@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read_write> out0: array<f32>;

fn expr0(i: u32) -> f32 {
  let v0 = in0[i];
  return v0;
}

fn expr1(i: u32) -> f32 {
  let v1 = in1[i];
  return v1;
}

fn expr3(i: u32, acc: f32) -> f32 {
  let v2 = acc;
  let v3 = select(0.20000000298023224f * v2, v2, v2 > 0.0);
  return v3;
}

fn load_a(g: u32, r: u32, k: u32) -> f32 {
  if (r >= 32u || k >= 64u) { return 0.0; }
  return expr0(g * 2048u + r * 64u + k);
}

fn load_b(g: u32, k: u32, c: u32) -> f32 {
  if (k >= 64u || c >= 48u) { return 0.0; }
  return expr1(g * 3072u + k * 48u + c);
}

fn out_index(g: u32, r: u32, c: u32) -> u32 {
  return g * 1536u + r * 48u + c;
}

// A slice stored k-major ([TILE_K][32]) and a B slice ([TILE_K][32]), 4096 bytes together.
var<workgroup> tile_a: array<f32, 512>;
var<workgroup> tile_b: array<f32, 512>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) workgroup: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let group = workgroup.x + workgroup.y * 2u;
  if (group >= 2u) { return; }
  let g = group / 2u;
  let row0 = (group / 2u) % 1u * 32u;
  let col0 = group % 2u * 32u;
  let local_row = local / 8u * 4u;
  let local_col = local % 8u * 4u;
  var acc_0_0 = 0.0;
  var acc_0_1 = 0.0;
  var acc_0_2 = 0.0;
  var acc_0_3 = 0.0;
  var acc_1_0 = 0.0;
  var acc_1_1 = 0.0;
  var acc_1_2 = 0.0;
  var acc_1_3 = 0.0;
  var acc_2_0 = 0.0;
  var acc_2_1 = 0.0;
  var acc_2_2 = 0.0;
  var acc_2_3 = 0.0;
  var acc_3_0 = 0.0;
  var acc_3_1 = 0.0;
  var acc_3_2 = 0.0;
  var acc_3_3 = 0.0;
  for (var k0 = 0u; k0 < 64u; k0 += 16u) {
    for (var e = local; e < 512u; e += 64u) {
      tile_a[e] = load_a(g, row0 + e % 32u, k0 + e / 32u);
      tile_b[e] = load_b(g, k0 + e / 32u, col0 + e % 32u);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk++) {
      let a0 = tile_a[kk * 32u + local_row + 0u];
      let a1 = tile_a[kk * 32u + local_row + 1u];
      let a2 = tile_a[kk * 32u + local_row + 2u];
      let a3 = tile_a[kk * 32u + local_row + 3u];
      let b0 = tile_b[kk * 32u + local_col + 0u];
      let b1 = tile_b[kk * 32u + local_col + 1u];
      let b2 = tile_b[kk * 32u + local_col + 2u];
      let b3 = tile_b[kk * 32u + local_col + 3u];
      acc_0_0 += a0 * b0;
      acc_0_1 += a0 * b1;
      acc_0_2 += a0 * b2;
      acc_0_3 += a0 * b3;
      acc_1_0 += a1 * b0;
      acc_1_1 += a1 * b1;
      acc_1_2 += a1 * b2;
      acc_1_3 += a1 * b3;
      acc_2_0 += a2 * b0;
      acc_2_1 += a2 * b1;
      acc_2_2 += a2 * b2;
      acc_2_3 += a2 * b3;
      acc_3_0 += a3 * b0;
      acc_3_1 += a3 * b1;
      acc_3_2 += a3 * b2;
      acc_3_3 += a3 * b3;
    }
    workgroupBarrier();
  }
  if (row0 + local_row + 0u < 32u && col0 + local_col + 0u < 48u) {
    let r = row0 + local_row + 0u;
    let c = col0 + local_col + 0u;
    let index = out_index(g, r, c);
    if (index != 0xffffffffu) {
      out0[index] = expr3(index, acc_0_0);
    }
  }
  if (row0 + local_row + 0u < 32u && col0 + local_col + 1u < 48u) {
    let r = row0 + local_row + 0u;
    let c = col0 + local_col + 1u;
    let index = out_index(g, r, c);
    if (index != 0xffffffffu) {
      out0[index] = expr3(index, acc_0_1);
    }
  }
  if (row0 + local_row + 0u < 32u && col0 + local_col + 2u < 48u) {
    let r = row0 + local_row + 0u;
    let c = col0 + local_col + 2u;
    let index = out_index(g, r, c);
    if (index != 0xffffffffu) {
      out0[index] = expr3(index, acc_0_2);
    }
  }
  if (row0 + local_row + 0u < 32u && col0 + local_col + 3u < 48u) {
    let r = row0 + local_row + 0u;
    let c = col0 + local_col + 3u;
    let index = out_index(g, r, c);
    if (index != 0xffffffffu) {
      out0[index] = expr3(index, acc_0_3);
    }
  }
  if (row0 + local_row + 1u < 32u && col0 + local_col + 0u < 48u) {
    let r = row0 + local_row + 1u;
    let c = col0 + local_col + 0u;
    let index = out_index(g, r, c);
    if (index != 0xffffffffu) {
      out0[index] = expr3(index, acc_1_0);
    }
  }
  if (row0 + local_row + 1u < 32u && col0 + local_col + 1u < 48u) {
    let r = row0 + local_row + 1u;
    let c = col0 + local_col + 1u;
    let index = out_index(g, r, c);
    if (index != 0xffffffffu) {
      out0[index] = expr3(index, acc_1_1);
    }
  }
  if (row0 + local_row + 1u < 32u && col0 + local_col + 2u < 48u) {
    let r = row0 + local_row + 1u;
    let c = col0 + local_col + 2u;
    let index = out_index(g, r, c);
    if (index != 0xffffffffu) {
      out0[index] = expr3(index, acc_1_2);
    }
  }
  if (row0 + local_row + 1u < 32u && col0 + local_col + 3u < 48u) {
    let r = row0 + local_row + 1u;
    let c = col0 + local_col + 3u;
    let index = out_index(g, r, c);
    if (index != 0xffffffffu) {
      out0[index] = expr3(index, acc_1_3);
    }
  }
  if (row0 + local_row + 2u < 32u && col0 + local_col + 0u < 48u) {
    let r = row0 + local_row + 2u;
    let c = col0 + local_col + 0u;
    let index = out_index(g, r, c);
    if (index != 0xffffffffu) {
      out0[index] = expr3(index, acc_2_0);
    }
  }
  if (row0 + local_row + 2u < 32u && col0 + local_col + 1u < 48u) {
    let r = row0 + local_row + 2u;
    let c = col0 + local_col + 1u;
    let index = out_index(g, r, c);
    if (index != 0xffffffffu) {
      out0[index] = expr3(index, acc_2_1);
    }
  }
  if (row0 + local_row + 2u < 32u && col0 + local_col + 2u < 48u) {
    let r = row0 + local_row + 2u;
    let c = col0 + local_col + 2u;
    let index = out_index(g, r, c);
    if (index != 0xffffffffu) {
      out0[index] = expr3(index, acc_2_2);
    }
  }
  if (row0 + local_row + 2u < 32u && col0 + local_col + 3u < 48u) {
    let r = row0 + local_row + 2u;
    let c = col0 + local_col + 3u;
    let index = out_index(g, r, c);
    if (index != 0xffffffffu) {
      out0[index] = expr3(index, acc_2_3);
    }
  }
  if (row0 + local_row + 3u < 32u && col0 + local_col + 0u < 48u) {
    let r = row0 + local_row + 3u;
    let c = col0 + local_col + 0u;
    let index = out_index(g, r, c);
    if (index != 0xffffffffu) {
      out0[index] = expr3(index, acc_3_0);
    }
  }
  if (row0 + local_row + 3u < 32u && col0 + local_col + 1u < 48u) {
    let r = row0 + local_row + 3u;
    let c = col0 + local_col + 1u;
    let index = out_index(g, r, c);
    if (index != 0xffffffffu) {
      out0[index] = expr3(index, acc_3_1);
    }
  }
  if (row0 + local_row + 3u < 32u && col0 + local_col + 2u < 48u) {
    let r = row0 + local_row + 3u;
    let c = col0 + local_col + 2u;
    let index = out_index(g, r, c);
    if (index != 0xffffffffu) {
      out0[index] = expr3(index, acc_3_2);
    }
  }
  if (row0 + local_row + 3u < 32u && col0 + local_col + 3u < 48u) {
    let r = row0 + local_row + 3u;
    let c = col0 + local_col + 3u;
    let index = out_index(g, r, c);
    if (index != 0xffffffffu) {
      out0[index] = expr3(index, acc_3_3);
    }
  }
}

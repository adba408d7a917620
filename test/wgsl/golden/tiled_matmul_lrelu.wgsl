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
  var acc: array<f32, 16>;
  for (var k0 = 0u; k0 < 64u; k0 += 16u) {
    for (var e = local; e < 512u; e += 64u) {
      tile_a[e] = load_a(g, row0 + e % 32u, k0 + e / 32u);
      tile_b[e] = load_b(g, k0 + e / 32u, col0 + e % 32u);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk++) {
      var a: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) { a[i] = tile_a[kk * 32u + local_row + i]; }
      for (var j = 0u; j < 4u; j++) {
        let b = tile_b[kk * 32u + local_col + j];
        for (var i = 0u; i < 4u; i++) { acc[i * 4u + j] += a[i] * b; }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) {
      let r = row0 + local_row + i;
      let c = col0 + local_col + j;
      if (r < 32u && c < 48u) {
        let index = g * 1536u + r * 48u + c;
        out0[index] = expr3(index, acc[i * 4u + j]);
      }
    }
  }
}

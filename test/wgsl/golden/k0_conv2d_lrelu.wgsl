// sganc kernel k0_conv2d_lrelu: contraction [2, 4, 4, 4]
// in0 = b0 [2, 4, 4, 4] (input x)
// in1 = b1 [4, 4, 3, 3] (input w)
// in2 = b2 [1, 4, 1, 1] (input bias)
// out0 = b3 [2, 4, 4, 4] (kernel)

@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read> in2: array<f32>;
@group(0) @binding(3) var<storage, read_write> out0: array<f32>;

const WORKGROUP_SIZE: u32 = 64u;
const GRID_X: u32 = 2u;
const GRID_Y: u32 = 1u;

fn expr0(i: u32) -> f32 {
  let v0 = in0[i];
  return v0;
}

fn expr1(i: u32) -> f32 {
  let v1 = in1[i];
  return v1;
}

fn expr2(i: u32) -> f32 {
  let v2 = in2[i];
  return v2;
}

fn expr6(i: u32) -> f32 {
  let v3 = c3(i);
  let v4 = expr2(u32(0 + i32((i / 16u) % 4u) * 1));
  let v5 = v3 + v4;
  let v6 = select(0.20000000298023224f * v5, v5, v5 > 0.0);
  return v6;
}

fn c3(i: u32) -> f32 {
  let ox = i32(i % 4u);
  let oy = i32((i / 4u) % 4u);
  let o = (i / 16u) % 4u;
  let n = i / 64u;
  let first_channel = n * 4u + (o / 4u) * 4u;
  var acc = 0.0;
  for (var ci = 0u; ci < 4u; ci++) {
    let x_plane = (first_channel + ci) * 4u;
    let w_plane = (o * 4u + ci) * 3u;
    for (var ky = 0; ky < 3; ky++) {
      let iy = oy * 1 - 1 + ky;
      if (iy < 0 || iy >= 4) { continue; }
      for (var kx = 0; kx < 3; kx++) {
        let ix = ox * 1 - 1 + kx;
        if (ix < 0 || ix >= 4) { continue; }
        let xv = expr0((x_plane + u32(iy)) * 4u + u32(ix));
        acc += xv * expr1((w_plane + u32(ky)) * 3u + u32(kx));
      }
    }
  }
  return acc;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroup: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let group = workgroup.x + (workgroup.y + workgroup.z * GRID_Y) * GRID_X;
  let i = group * WORKGROUP_SIZE + local;
  if (i >= 128u) { return; }
  out0[i] = expr6(i);
}

// WebAssembly text of the cpu target's kernels. Every kernel reads and writes one shared linear
// memory through byte addresses and takes only i32 parameters. The last two are (tid, threads), and
// the kernel computes share tid of the work, so the caller and each worker thread call the same
// export. Shares split the output only, never a sum, so results do not depend on the thread count.
//
// Matrix products read the second operand in packed panels: columns [8j, 8j + 8) of a [K, N] matrix
// stored as K rows of 8 floats, contiguous (zeros past N). The 4x8 micro-kernel then streams one
// panel while 8 SIMD accumulators stay in registers.

/** The kernel exports, in the order the dispatcher numbers them. */
export const BINARY_KERNELS = ['add', 'sub', 'mul', 'div', 'max', 'min', 'greater'] as const;
export const UNARY_KERNELS = ['neg', 'abs', 'sqrt', 'rsqrt', 'recip', 'square', 'lrelu', 'lreluGrad'] as const;

export type BinaryKernel = (typeof BINARY_KERNELS)[number];
export type UnaryKernel = (typeof UNARY_KERNELS)[number];

export const KERNEL_NAMES = [
  'gemm',
  'im2col',
  'col2im',
  'depthwise',
  'select',
  'sumInner',
  ...BINARY_KERNELS.map((op) => `binary_${op}`),
  ...UNARY_KERNELS.map((op) => `unary_${op}`),
] as const;

/** Output columns per packed panel, and panels per unit of gemm work. */
export const PANEL = 8;
const PANELS_PER_UNIT = 4;

const get = (name: string): string => `(local.get $${name})`;
const set = (name: string, value: string): string => `(local.set $${name} ${value})`;
const add = (a: string, b: string): string => `(i32.add ${a} ${b})`;
const mul = (a: string, b: string): string => `(i32.mul ${a} ${b})`;
const int = (value: number): string => `(i32.const ${value})`;
const params = (names: readonly string[]): string => names.map((n) => `(param $${n} i32)`).join(' ');
const locals = (names: readonly string[], type = 'i32'): string => names.map((n) => `(local $${n} ${type})`).join(' ');

/**
 * Sets $start and $end to this thread's share [start, end) of `total` units: thread tid gets
 * [total * tid / threads, total * (tid + 1) / threads).
 */
function shareOf(total: string): string {
  return [
    set('start', `(i32.div_u ${mul(total, get('tid'))} ${get('nt')})`),
    set('end', `(i32.div_u ${mul(total, add(get('tid'), int(1)))} ${get('nt')})`),
  ].join('\n');
}

/** Returns a loop over $var from its current value while it is below `limit` (the body runs zero times when it is not). */
function whileBelow(variable: string, limit: string, body: string, step = int(1)): string {
  const label = `$loop_${variable}`;
  return `(block ${label}_exit (loop ${label}
    (br_if ${label}_exit (i32.ge_s ${get(variable)} ${limit}))
    ${body}
    ${set(variable, add(get(variable), step))}
    (br ${label})))`;
}

/**
 * Returns the micro-kernel for `rows` rows of A: C[rows, 8] = sum over r < nr of A_r[rows, K] @ B_r[K, 8],
 * where A_r starts at a + r * aR (rows lda bytes apart) and the packed panel B_r at b + r * bR.
 * The first nv columns are stored, rows ldc bytes apart.
 */
function microKernel(rows: number): string {
  const rowIds = [...Array(rows).keys()];

  const accs = rowIds.flatMap((i) => [`c${i}0`, `c${i}1`]);

  const pointers = rowIds.map((i) => `p${i}`);

  const setPointers = rowIds.map((i) => set(`p${i}`, add(add(get('a'), mul(get('r'), get('aR'))), mul(int(i), get('lda'))))).join('\n');

  const step = rowIds
    .map(
      (i) => `${set('s', `(v128.load32_splat ${get(`p${i}`)})`)}
      ${set(`c${i}0`, `(f32x4.add ${get(`c${i}0`)} (f32x4.mul ${get('s')} ${get('x0')}))`)}
      ${set(`c${i}1`, `(f32x4.add ${get(`c${i}1`)} (f32x4.mul ${get('s')} ${get('x1')}))`)}
      ${set(`p${i}`, add(get(`p${i}`), int(4)))}`,
    )
    .join('\n');

  const rowAddress = (i: number): string => add(get('c'), mul(int(i), get('ldc')));

  const fullStores = rowIds
    .map((i) => `(v128.store ${rowAddress(i)} ${get(`c${i}0`)}) (v128.store offset=16 ${rowAddress(i)} ${get(`c${i}1`)})`)
    .join('\n');

  const partialStores = rowIds.map((i) => `(call $storePartial ${rowAddress(i)} ${get(`c${i}0`)} ${get(`c${i}1`)} ${get('nv')})`).join('\n');

  return `(func $micro${rows} ${params(['a', 'lda', 'b', 'c', 'ldc', 'k', 'nr', 'aR', 'bR', 'nv'])}
  ${locals([...pointers, 'pb', 'stop', 'r'])} ${locals(['x0', 'x1', 's', ...accs], 'v128')}
  (if (i32.gt_s ${get('k')} ${int(0)}) (then
    ${whileBelow(
      'r',
      get('nr'),
      `${setPointers}
      ${set('pb', add(get('b'), mul(get('r'), get('bR'))))}
      ${set('stop', add(get('pb'), `(i32.shl ${get('k')} ${int(5)})`))}
      (loop $k
        ${set('x0', `(v128.load ${get('pb')})`)}
        ${set('x1', `(v128.load offset=16 ${get('pb')})`)}
        ${step}
        ${set('pb', add(get('pb'), int(32)))}
        (br_if $k (i32.lt_u ${get('pb')} ${get('stop')})))`,
    )}))
  (if (i32.eq ${get('nv')} ${int(8)})
    (then ${fullStores})
    (else ${partialStores})))`;
}

/** Stores the first nv (< 8) lanes of the 8-float row (lo, hi) at address c. */
const STORE_PARTIAL = `(func $storePartial (param $c i32) (param $lo v128) (param $hi v128) (param $nv i32)
  (local $i i32) (local $v v128)
  ${set('v', get('lo'))}
  (block $done (loop $lane
    (br_if $done (i32.ge_s ${get('i')} ${get('nv')}))
    (if (i32.eq ${get('i')} ${int(4)}) (then ${set('v', get('hi'))}))
    (f32.store ${add(get('c'), `(i32.shl ${get('i')} ${int(2)})`)}
      (f32x4.extract_lane 0 ${get('v')}))
    ${set('v', `(i8x16.shuffle 4 5 6 7 8 9 10 11 12 13 14 15 0 1 2 3 ${get('v')} ${get('v')})`)}
    ${set('i', add(get('i'), int(1)))}
    (br $lane))))`;

/**
 * gemm: for every batch index (b1 < nb1, b2 < nb2), C[M, N] = sum over r < nr of A_r @ B_r, with
 * A at A + b1 * aS1 + b2 * aS2 (+ r * aR), the packed B at B + b1 * bS1 + b2 * bS2 (+ r * bR) and C at
 * C + b1 * cS1 + b2 * cS2. Strides are in bytes. Work units are (b1, b2, 8 panels).
 */
function gemmKernel(): string {
  const names = ['M', 'N', 'K', 'A', 'lda', 'B', 'C', 'ldc', 'nb1', 'aS1', 'bS1', 'cS1', 'nb2', 'aS2', 'bS2', 'cS2', 'nr', 'aR', 'bR', 'tid', 'nt'];

  const microCall = (rows: number): string => `(call $micro${rows}
      ${add(get('a0'), mul(get('i'), get('lda')))} ${get('lda')}
      ${add(get('b0'), mul(get('j'), get('panelBytes')))}
      ${add(add(get('c0'), mul(get('i'), get('ldc'))), `(i32.shl ${get('j')} ${int(5)})`)} ${get('ldc')}
      ${get('K')} ${get('nr')} ${get('aR')} ${get('bR')}
      (select ${int(8)} (i32.sub ${get('N')} (i32.shl ${get('j')} ${int(3)}))
        (i32.ge_s (i32.sub ${get('N')} (i32.shl ${get('j')} ${int(3)})) ${int(8)})))`;

  const panelLoop = (rows: number): string =>
    `${set('j', get('j0'))}
    ${whileBelow('j', get('j1'), microCall(rows))}`;

  return `(func (export "gemm") ${params(names)}
  ${locals(['panels', 'units', 'total', 'start', 'end', 'u', 't', 'b1', 'b2', 'a0', 'b0', 'c0', 'j0', 'j1', 'j', 'i', 'panelBytes'])}
  ${set('panels', `(i32.shr_u ${add(get('N'), int(7))} ${int(3)})`)}
  ${set('units', `(i32.div_u ${add(get('panels'), int(PANELS_PER_UNIT - 1))} ${int(PANELS_PER_UNIT)})`)}
  ${set('total', mul(mul(get('nb1'), get('nb2')), get('units')))}
  ${set('panelBytes', `(i32.shl ${get('K')} ${int(5)})`)}
  ${shareOf(get('total'))}
  ${set('u', get('start'))}
  ${whileBelow(
    'u',
    get('end'),
    `${set('t', `(i32.div_u ${get('u')} ${get('units')})`)}
    ${set('j0', mul(`(i32.rem_u ${get('u')} ${get('units')})`, int(PANELS_PER_UNIT)))}
    ${set('j1', add(get('j0'), int(PANELS_PER_UNIT)))}
    (if (i32.gt_s ${get('j1')} ${get('panels')}) (then ${set('j1', get('panels'))}))
    ${set('b2', `(i32.rem_u ${get('t')} ${get('nb2')})`)}
    ${set('b1', `(i32.div_u ${get('t')} ${get('nb2')})`)}
    ${set('a0', add(add(get('A'), mul(get('b1'), get('aS1'))), mul(get('b2'), get('aS2'))))}
    ${set('b0', add(add(get('B'), mul(get('b1'), get('bS1'))), mul(get('b2'), get('bS2'))))}
    ${set('c0', add(add(get('C'), mul(get('b1'), get('cS1'))), mul(get('b2'), get('cS2'))))}
    ${set('i', int(0))}
    ${whileBelow('i', `(i32.sub ${get('M')} ${int(3)})`, panelLoop(4), int(4))}
    ${whileBelow('i', get('M'), panelLoop(1))}`,
  )})`;
}

const CONV_PARAMS = ['X', 'C', 'H', 'W', 'KH', 'KW', 'stride', 'top', 'left', 'OH', 'OW', 'cpg', 'G', 'N'];

/** Decodes work unit u (one input channel plane of one image) into n, g, c, the (n, g) block ng and the plane address. */
function channelUnit(): string {
  return `${set('c', `(i32.rem_u ${get('u')} ${get('cpg')})`)}
    ${set('ng', `(i32.div_u ${get('u')} ${get('cpg')})`)}
    ${set('n', `(i32.div_u ${get('ng')} ${get('G')})`)}
    ${set('g', `(i32.rem_u ${get('ng')} ${get('G')})`)}
    ${set('plane', add(get('X'), `(i32.shl ${mul(add(mul(get('n'), get('C')), add(mul(get('g'), get('cpg')), get('c'))), mul(get('H'), get('W')))} ${int(2)})`))}`;
}

/**
 * im2col: for each image n and group g, writes tap t = (c * KH + ky) * KW + kx of output pixel p as
 * dst + ng * blockBytes + 4 * ((t >> 3) * fPanel + (t & 7) * fLane + (p >> 3) * gPanel + (p & 7) * gLane),
 * zero outside the image. With (fPanel, fLane, gPanel, gLane) = (64, 8, 8K, 1) that is B = col [K, P] in
 * panels over pixels; with (8P, 1, 64, 8) it is col^T [P, K] in panels over taps. Pixels from P up to
 * pPad get zeros. Units are input channel planes.
 */
function im2colKernel(): string {
  const names = [...CONV_PARAMS, 'dst', 'blockBytes', 'fPanel', 'fLane', 'gPanel', 'gLane', 'pPad', 'tid', 'nt'];
  // $out walks the destination: gLane floats per pixel, and a jump to the next panel after 8 pixels.

  const advance = `${set('out', add(get('out'), get('laneStep')))}
        ${set('lane', add(get('lane'), int(1)))}
        (if (i32.eq ${get('lane')} ${int(8)}) (then ${set('lane', int(0))} ${set('out', add(get('out'), get('panelJump')))}))`;

  const pixel = `(f32.store ${get('out')}
          (if (result f32) (i32.and ${get('rowInside')} (i32.lt_u ${get('ix')} ${get('W')}))
            (then (f32.load ${get('src')}))
            (else (f32.const 0))))
        ${set('ix', add(get('ix'), get('stride')))}
        ${set('src', add(get('src'), get('srcStep')))}
        ${advance}`;

  // Four pixels whose inputs all lie inside the row are one vector load at stride 1, and the even
  // lanes of two loads at stride 2. They are one vector store where consecutive pixels are
  // consecutive in the destination (gLane 1), else four stores. Any other four run the scalar code.
  const gathered = `(if (result v128) (i32.eq ${get('stride')} ${int(1)})
            (then (v128.load ${get('src')}))
            (else (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (v128.load ${get('src')}) (v128.load offset=16 ${get('src')}))))`;
  const quad = `(if (i32.and ${get('rowInside')} (i32.and (i32.ge_s ${get('ix')} ${int(0)})
          (i32.lt_s ${add(get('ix'), `(i32.sub (i32.shl ${get('stride')} ${int(2)}) ${int(1)})`)} ${get('W')})))
        (then
          (if (i32.eq ${get('gLane')} ${int(1)})
            (then (v128.store ${get('out')} ${gathered}))
            (else
              ${set('four', gathered)}
              (f32.store ${get('out')} (f32x4.extract_lane 0 ${get('four')}))
              (f32.store ${add(get('out'), get('laneStep'))} (f32x4.extract_lane 1 ${get('four')}))
              (f32.store ${add(get('out'), `(i32.shl ${get('laneStep')} ${int(1)})`)} (f32x4.extract_lane 2 ${get('four')}))
              (f32.store ${add(get('out'), mul(get('laneStep'), int(3)))} (f32x4.extract_lane 3 ${get('four')}))))
          ${set('out', add(get('out'), `(i32.shl ${get('laneStep')} ${int(2)})`))}
          ${set('lane', add(get('lane'), int(4)))}
          (if (i32.eq ${get('lane')} ${int(8)}) (then ${set('lane', int(0))} ${set('out', add(get('out'), get('panelJump')))}))
          ${set('ix', add(get('ix'), `(i32.shl ${get('stride')} ${int(2)})`))}
          ${set('src', add(get('src'), `(i32.shl ${get('srcStep')} ${int(2)})`))})
        (else ${pixel} ${pixel} ${pixel} ${pixel}))`;

  const row = `${set('iy', add(`(i32.sub ${mul(get('oy'), get('stride'))} ${get('top')})`, get('ky')))}
      ${set('rowInside', `(i32.lt_u ${get('iy')} ${get('H')})`)}
      ${set('ix', `(i32.sub ${get('kx')} ${get('left')})`)}
      ${set('src', add(add(get('plane'), `(i32.shl ${mul(get('iy'), get('W'))} ${int(2)})`), `(i32.shl ${get('ix')} ${int(2)})`))}
      ${set('ox', int(0))}
      (if ${get('quads')}
        (then ${whileBelow('ox', get('OW'), quad, int(4))})
        (else ${whileBelow('ox', get('OW'), pixel)}))`;

  const tap = `${set('t', add(mul(add(mul(get('c'), get('KH')), get('ky')), get('KW')), get('kx')))}
    ${set('out', add(get('block'), `(i32.shl ${add(mul(`(i32.shr_u ${get('t')} ${int(3)})`, get('fPanel')), mul(`(i32.and ${get('t')} ${int(7)})`, get('fLane')))} ${int(2)})`))}
    ${set('lane', int(0))}
    ${set('oy', int(0))}
    ${whileBelow('oy', get('OH'), row)}
    ${set('p', mul(get('OH'), get('OW')))}
    ${whileBelow('p', get('pPad'), `(f32.store ${get('out')} (f32.const 0)) ${advance}`)}`;

  return `(func (export "im2col") ${params(names)}
  ${locals(['start', 'end', 'u', 'n', 'g', 'c', 'ng', 'plane', 'block', 'ky', 'kx', 't', 'out', 'lane', 'laneStep', 'panelJump', 'srcStep', 'src', 'p', 'oy', 'ox', 'iy', 'ix', 'rowInside', 'quads'])} ${locals(['four'], 'v128')}
  ;; Pixels in groups of four need rows that start at a multiple of 4 pixels (so four never cross
  ;; a panel), and stride 1 or 2.
  ${set('quads', `(i32.and (i32.eqz (i32.and ${get('OW')} ${int(3)})) (i32.le_u ${get('stride')} ${int(2)}))`)}
  ${set('laneStep', `(i32.shl ${get('gLane')} ${int(2)})`)}
  ${set('panelJump', `(i32.shl (i32.sub ${get('gPanel')} (i32.shl ${get('gLane')} ${int(3)})) ${int(2)})`)}
  ${set('srcStep', `(i32.shl ${get('stride')} ${int(2)})`)}
  ${shareOf(mul(mul(get('N'), get('G')), get('cpg')))}
  ${set('u', get('start'))}
  ${whileBelow(
    'u',
    get('end'),
    `${channelUnit()}
    ${set('block', add(get('dst'), mul(get('ng'), get('blockBytes'))))}
    ${set('ky', int(0))}
    ${whileBelow('ky', get('KH'), `${set('kx', int(0))} ${whileBelow('kx', get('KW'), tap)}`)}`,
  )})`;
}

/**
 * col2im: the transpose of im2col into x's layout, where X is the output dx. For each input channel
 * plane (the work unit) it zeroes the plane. Then it adds src + ng * blockBytes + t * ldc + 4 * p for
 * every tap t and output pixel p whose input position lies inside the image.
 */
function col2imKernel(): string {
  const names = [...CONV_PARAMS, 'src', 'blockBytes', 'ldc', 'tid', 'nt'];
  const pixel = `${set('ix', add(`(i32.sub ${mul(get('ox'), get('stride'))} ${get('left')})`, get('kx')))}
        (if (i32.lt_u ${get('ix')} ${get('W')}) (then
          ${set('at', add(get('rowBase'), `(i32.shl ${get('ix')} ${int(2)})`))}
          (f32.store ${get('at')} (f32.add (f32.load ${get('at')})
            (f32.load ${add(get('tRow'), `(i32.shl ${add(mul(get('oy'), get('OW')), get('ox'))} ${int(2)})`)})))))`;
  // At stride 2, four pixels add to the even lanes of two vectors of dx, and the odd lanes keep
  // their bits. Both vectors, 8 floats, must lie inside the row, so four pixels at the right edge
  // run the scalar code. The sums are the scalar code's, in the same order.
  const evenLanes = (sum: string, unchanged: string): string =>
    `(i8x16.shuffle 0 1 2 3 20 21 22 23 8 9 10 11 28 29 30 31 ${sum} ${unchanged})`;
  const quad = `${set('at', add(get('rowBase'), `(i32.shl ${get('ix')} ${int(2)})`))}
          ${set('four', `(v128.load ${add(get('tRow'), `(i32.shl ${add(mul(get('oy'), get('OW')), get('ox'))} ${int(2)})`)})`)}
          ${set('low', `(v128.load ${get('at')})`)}
          ${set('high', `(v128.load offset=16 ${get('at')})`)}
          (v128.store ${get('at')} ${evenLanes(`(f32x4.add ${get('low')} (i8x16.shuffle 0 1 2 3 0 1 2 3 4 5 6 7 4 5 6 7 ${get('four')} ${get('four')}))`, get('low'))})
          (v128.store offset=16 ${get('at')} ${evenLanes(`(f32x4.add ${get('high')} (i8x16.shuffle 8 9 10 11 8 9 10 11 12 13 14 15 12 13 14 15 ${get('four')} ${get('four')}))`, get('high'))})
          ${set('ox', add(get('ox'), int(4)))}`;
  const step = `${set('ix', add(`(i32.sub ${mul(get('ox'), get('stride'))} ${get('left')})`, get('kx')))}
        (if (i32.and (i32.and (i32.eq ${get('stride')} ${int(2)}) (i32.lt_s ${add(get('ox'), int(3))} ${get('OW')}))
            (i32.and (i32.ge_s ${get('ix')} ${int(0)}) (i32.lt_s ${add(get('ix'), int(7))} ${get('W')})))
          (then ${quad})
          (else ${pixel} ${set('ox', add(get('ox'), int(1)))}))`;
  const row = `${set('iy', add(`(i32.sub ${mul(get('oy'), get('stride'))} ${get('top')})`, get('ky')))}
      (if (i32.lt_u ${get('iy')} ${get('H')}) (then
        ${set('rowBase', add(get('plane'), `(i32.shl ${mul(get('iy'), get('W'))} ${int(2)})`))}
        ${set('ox', int(0))}
        (block $row_done (loop $row_next
          (br_if $row_done (i32.ge_s ${get('ox')} ${get('OW')}))
          ${step}
          (br $row_next)))))`;
  const tap = `${set('t', add(mul(add(mul(get('c'), get('KH')), get('ky')), get('KW')), get('kx')))}
    ${set('tRow', add(add(get('src'), mul(get('ng'), get('blockBytes'))), mul(get('t'), get('ldc'))))}
    ${set('oy', int(0))}
    ${whileBelow('oy', get('OH'), row)}`;
  return `(func (export "col2im") ${params(names)}
  ${locals(['start', 'end', 'u', 'n', 'g', 'c', 'ng', 'plane', 'ky', 'kx', 't', 'tRow', 'oy', 'ox', 'iy', 'ix', 'rowBase', 'at'])} ${locals(['four', 'low', 'high'], 'v128')}
  ${shareOf(mul(mul(get('N'), get('G')), get('cpg')))}
  ${set('u', get('start'))}
  ${whileBelow(
    'u',
    get('end'),
    `${channelUnit()}
    (memory.fill ${get('plane')} ${int(0)} (i32.shl ${mul(get('H'), get('W'))} ${int(2)}))
    ${set('ky', int(0))}
    ${whileBelow('ky', get('KH'), `${set('kx', int(0))} ${whileBelow('kx', get('KW'), tap)}`)}`,
  )})`;
}

/**
 * depthwise: y[n, c] = conv2d of x[n, c] with w[c] for convolutions with one input and one output
 * channel per group, such as the blur. Work units are (n, c) planes. Each unit first copies its plane
 * with zero padding into pad + u * PH * PW floats, so the tap loops need no bounds checks. With
 * stride 1, four output pixels share each SIMD multiply-add. Both paths add the taps in the same
 * (ky, kx) order in float32, so results do not depend on the path or thread count.
 */
function depthwiseKernel(): string {
  const names = ['X', 'C', 'H', 'W', 'KH', 'KW', 'stride', 'top', 'left', 'OH', 'OW', 'N', 'Wt', 'Y', 'pad', 'tid', 'nt'];

  const shl2 = (value: string): string => `(i32.shl ${value} ${int(2)})`;

  const padPixel = `${set('ix', `(i32.sub ${get('px')} ${get('left')})`)}
        (f32.store ${add(get('padBase'), shl2(add(mul(get('py'), get('PW')), get('px'))))}
          (if (result f32) (i32.and ${get('rowInside')} (i32.lt_u ${get('ix')} ${get('W')}))
            (then (f32.load ${add(get('plane'), shl2(add(mul(get('iy'), get('W')), get('ix'))))}))
            (else (f32.const 0))))`;

  const padRow = `${set('iy', `(i32.sub ${get('py')} ${get('top')})`)}
      ${set('rowInside', `(i32.lt_u ${get('iy')} ${get('H')})`)}
      ${set('px', int(0))}
      ${whileBelow('px', get('PW'), padPixel)}`;

  const vectorTap = `(local.set $acc (f32x4.add (local.get $acc) (f32x4.mul
            (v128.load32_splat ${add(get('wBase'), shl2(add(mul(get('ky'), get('KW')), get('kx'))))})
            (v128.load ${add(add(get('padBase'), shl2(add(mul(add(get('oy'), get('ky')), get('PW')), get('ox')))), shl2(get('kx')))}))))`;

  const vectorPixels = `(local.set $acc ${ZERO})
        ${set('ky', int(0))}
        ${whileBelow('ky', get('KH'), `${set('kx', int(0))} ${whileBelow('kx', get('KW'), vectorTap)}`)}
        (v128.store ${add(get('out'), shl2(add(mul(get('oy'), get('OW')), get('ox'))))} (local.get $acc))`;

  const scalarTap = `(local.set $sum (f32.add (local.get $sum) (f32.mul
            (f32.load ${add(get('wBase'), shl2(add(mul(get('ky'), get('KW')), get('kx'))))})
            (f32.load ${add(get('padBase'), shl2(add(mul(add(mul(get('oy'), get('stride')), get('ky')), get('PW')), add(mul(get('ox'), get('stride')), get('kx')))))}))))`;

  const scalarPixel = `(local.set $sum (f32.const 0))
        ${set('ky', int(0))}
        ${whileBelow('ky', get('KH'), `${set('kx', int(0))} ${whileBelow('kx', get('KW'), scalarTap)}`)}
        (f32.store ${add(get('out'), shl2(add(mul(get('oy'), get('OW')), get('ox'))))} (local.get $sum))`;

  const outputRow = `${set('ox', int(0))}
      (if (i32.eq ${get('stride')} ${int(1)}) (then
        ${whileBelow('ox', `(i32.sub ${get('OW')} ${int(3)})`, vectorPixels, int(4))}))
      ${whileBelow('ox', get('OW'), scalarPixel)}`;

  return `(func (export "depthwise") ${params(names)}
  ${locals(['start', 'end', 'u', 'c', 'PH', 'PW', 'plane', 'padBase', 'wBase', 'out', 'py', 'px', 'iy', 'ix', 'rowInside', 'oy', 'ox', 'ky', 'kx'])}
  (local $acc v128) (local $sum f32)
  ${set('PH', add(mul(`(i32.sub ${get('OH')} ${int(1)})`, get('stride')), get('KH')))}
  ${set('PW', add(mul(`(i32.sub ${get('OW')} ${int(1)})`, get('stride')), get('KW')))}
  ${shareOf(mul(get('N'), get('C')))}
  ${set('u', get('start'))}
  ${whileBelow(
    'u',
    get('end'),
    `${set('c', `(i32.rem_u ${get('u')} ${get('C')})`)}
    ${set('plane', add(get('X'), shl2(mul(get('u'), mul(get('H'), get('W'))))))}
    ${set('padBase', add(get('pad'), shl2(mul(get('u'), mul(get('PH'), get('PW'))))))}
    ${set('wBase', add(get('Wt'), shl2(mul(get('c'), mul(get('KH'), get('KW'))))))}
    ${set('out', add(get('Y'), shl2(mul(get('u'), mul(get('OH'), get('OW'))))))}
    ${set('py', int(0))}
    ${whileBelow('py', get('PH'), padRow)}
    ${set('oy', int(0))}
    ${whileBelow('oy', get('OH'), outputRow)}`,
  )})`;
}

/** Returns an elementwise loop over vectors [start, end) of this thread's share of n4 vectors; `body` computes $v from the loaded operands. */
function vectorLoop(name: string, operands: readonly string[], body: string, extraParams: readonly string[] = []): string {
  const loads = operands.map((o) => set(`v${o}`, `(v128.load ${add(get(o), get('at'))})`)).join('\n');
  return `(func (export "${name}") ${params([...operands, 'out', ...extraParams, 'n4', 'tid', 'nt'])}
  ${locals(['start', 'end', 'at', 'stop'])} ${locals([...operands.map((o) => `v${o}`), 'v'], 'v128')}
  ${shareOf(get('n4'))}
  ${set('at', `(i32.shl ${get('start')} ${int(4)})`)}
  ${set('stop', `(i32.shl ${get('end')} ${int(4)})`)}
  (block $done (loop $next
    (br_if $done (i32.ge_u ${get('at')} ${get('stop')}))
    ${loads}
    ${body}
    (v128.store ${add(get('out'), get('at'))} ${get('v')})
    ${set('at', add(get('at'), int(16)))}
    (br $next))))`;
}

const ONE = '(f32x4.splat (f32.const 1))';
const ZERO = '(v128.const i32x4 0 0 0 0)';

function binaryBody(op: BinaryKernel): string {
  const a = get('va');
  const b = get('vb');
  switch (op) {
    case 'add':
    case 'sub':
    case 'mul':
    case 'div':
      return set('v', `(f32x4.${op} ${a} ${b})`);
    // a > b ? a : b and b > a ? a : b, so ties and NaNs pick b exactly as the reference does.
    case 'max':
      return set('v', `(v128.bitselect ${a} ${b} (f32x4.gt ${a} ${b}))`);
    case 'min':
      return set('v', `(v128.bitselect ${a} ${b} (f32x4.gt ${b} ${a}))`);
    case 'greater':
      return set('v', `(v128.and (f32x4.gt ${a} ${b}) ${ONE})`);
  }
}

function unaryBody(op: UnaryKernel): string {
  const x = get('vx');
  const slope = `(f32x4.splat (f32.reinterpret_i32 ${get('slope')}))`;
  switch (op) {
    case 'neg':
    case 'abs':
    case 'sqrt':
      return set('v', `(f32x4.${op} ${x})`);
    case 'rsqrt':
      return set('v', `(f32x4.div ${ONE} (f32x4.sqrt ${x}))`);
    case 'recip':
      return set('v', `(f32x4.div ${ONE} ${x})`);
    case 'square':
      return set('v', `(f32x4.mul ${x} ${x})`);
    case 'lrelu':
      return set('v', `(v128.bitselect ${x} (f32x4.mul ${x} ${slope}) (f32x4.gt ${x} ${ZERO}))`);
    case 'lreluGrad':
      return set('v', `(v128.bitselect ${ONE} ${slope} (f32x4.gt ${x} ${ZERO}))`);
  }
}

/** select: out = cond != 0 ? a : b; a NaN condition counts as nonzero, as f32x4.ne makes it. */
const SELECT = vectorLoop('select', ['cond', 'a', 'b'], set('v', `(v128.bitselect ${get('va')} ${get('vb')} (f32x4.ne ${get('vcond')} ${ZERO}))`));

/**
 * sumInner: out[o] = sum of x[o * inner + i] over i < inner, for o < outer (the work units). The sums
 * run in float64, two lanes at a time, as the reference executor's do, because reductions such as
 * instance norm statistics and bias gradients cancel heavily.
 */
const SUM_INNER = `(func (export "sumInner") ${params(['x', 'out', 'outer', 'inner', 'tid', 'nt'])}
  ${locals(['start', 'end', 'u', 'p', 'stop', 'vectorStop'])} (local $lo v128) (local $hi v128) (local $v v128) (local $s f64)
  ${shareOf(get('outer'))}
  ${set('u', get('start'))}
  ${whileBelow(
    'u',
    get('end'),
    `${set('p', add(get('x'), `(i32.shl ${mul(get('u'), get('inner'))} ${int(2)})`))}
    ${set('stop', add(get('p'), `(i32.shl ${get('inner')} ${int(2)})`))}
    ${set('vectorStop', add(get('p'), `(i32.shl (i32.and ${get('inner')} ${int(-4)}) ${int(2)})`))}
    ${set('lo', ZERO)}
    ${set('hi', ZERO)}
    (block $vdone (loop $vnext
      (br_if $vdone (i32.ge_u ${get('p')} ${get('vectorStop')}))
      ${set('v', `(v128.load ${get('p')})`)}
      ${set('lo', `(f64x2.add ${get('lo')} (f64x2.promote_low_f32x4 ${get('v')}))`)}
      ${set('hi', `(f64x2.add ${get('hi')} (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 ${get('v')} ${get('v')})))`)}
      ${set('p', add(get('p'), int(16)))}
      (br $vnext)))
    (local.set $s (f64.add (f64.add (f64x2.extract_lane 0 ${get('lo')}) (f64x2.extract_lane 1 ${get('lo')}))
      (f64.add (f64x2.extract_lane 0 ${get('hi')}) (f64x2.extract_lane 1 ${get('hi')}))))
    (block $sdone (loop $snext
      (br_if $sdone (i32.ge_u ${get('p')} ${get('stop')}))
      (local.set $s (f64.add (local.get $s) (f64.promote_f32 (f32.load ${get('p')}))))
      ${set('p', add(get('p'), int(4)))}
      (br $snext)))
    (f32.store ${add(get('out'), `(i32.shl ${get('u')} ${int(2)})`)} (f32.demote_f64 (local.get $s)))`,
  )})`;

/** Returns the whole module's text. The memory is imported, shared and at most 2 GiB, so byte addresses stay positive as i32. */
export function kernelModuleText(): string {
  return [
    '(module',
    '(import "env" "memory" (memory 1 32768 shared))',
    STORE_PARTIAL,
    // 4 rows keep 8 accumulators, 2 panel vectors and a splat in 11 of x64's 16 SIMD registers. With
    // 5 or 6 rows, V8 spilled registers and the gemm ran 1.4x to 1.6x slower (bench/cpu-ops.ts shapes).
    microKernel(4),
    microKernel(1),
    gemmKernel(),
    im2colKernel(),
    col2imKernel(),
    depthwiseKernel(),
    SELECT,
    SUM_INNER,
    ...BINARY_KERNELS.map((op) => vectorLoop(`binary_${op}`, ['a', 'b'], binaryBody(op))),
    ...UNARY_KERNELS.map((op) => vectorLoop(`unary_${op}`, ['x'], unaryBody(op), ['slope'])),
    ')',
  ].join('\n');
}

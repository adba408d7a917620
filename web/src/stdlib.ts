// The standard library and the example models, bundled into the page as text.
import fashion32 from '../../examples/fashion-32.sgan?raw';
import ffhq1024 from '../../examples/stylegan-ffhq-1024.sgan?raw';
import stylegan from '../../stdlib/stylegan.sgan?raw';

/** Path in the page's virtual tree (see shims/path.ts) -> text. `import std.X` resolves to /stdlib/X.sgan. */
export const stdlibFiles = new Map<string, string>([['/stdlib/stylegan.sgan', stylegan]]);

export interface Example {
  /** File name shown in diagnostics. */
  file: string;
  text: string;
}

export const examples: Example[] = [
  { file: 'fashion-32.sgan', text: fashion32 },
  { file: 'stylegan-ffhq-1024.sgan', text: ffhq1024 },
];

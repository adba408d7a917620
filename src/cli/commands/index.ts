// The command registry of `sganc`. Adding a command is one line here: its name, a summary for
// `sganc --help` and a loader. Commands load lazily, so `sganc check` does not import the runtime.

/** Runs a command with the arguments after its name; returns the exit code. */
export type CommandMain = (argv: string[]) => Promise<number> | number;

export interface Command {
  name: string;
  summary: string;
  load: () => Promise<CommandMain>;
}

export const commands: Command[] = [
  { name: 'check', summary: 'check a .sgan model and print its parameter counts', load: () => import('./check.ts').then((m) => m.checkCommand) },
  { name: 'fmt', summary: 'print or rewrite a .sgan file in canonical format', load: () => import('./fmt.ts').then((m) => m.fmtCommand) },
  { name: 'graph', summary: 'print the layer graph of one network at one stage', load: () => import('./graph.ts').then((m) => m.graphCommand) },
  { name: 'init', summary: 'write freshly initialised parameters to a safetensors file', load: () => import('./init.ts').then((m) => m.initCommand) },
  { name: 'compile', summary: 'write the generated trainer and sampler of a model', load: () => import('./compile.ts').then((m) => m.compileCommand) },
  { name: 'train', summary: 'train a model on images, with checkpoints and sample grids', load: () => import('./train.ts').then((m) => m.trainCommand) },
  { name: 'generate', summary: 'write generated images from a checkpoint', load: () => import('./generate.ts').then((m) => m.generateCommand) },
  { name: 'mix', summary: 'write the style-mixing grid of a checkpoint', load: () => import('./mix.ts').then((m) => m.mixCommand) },
  { name: 'noise', summary: 'show how per-pixel noise changes one generated image', load: () => import('./noise.ts').then((m) => m.noiseCommand) },
  { name: 'interp', summary: 'write an animated GIF interpolating between two seeds', load: () => import('./interp.ts').then((m) => m.interpCommand) },
  { name: 'truncation', summary: 'write a grid of seeds at several truncation psi values', load: () => import('./truncation.ts').then((m) => m.truncationCommand) },
  { name: 'metrics', summary: 'print a Frechet distance between real and generated images', load: () => import('./metrics.ts').then((m) => m.metricsCommand) },
  { name: 'serve', summary: 'serve the browser playground, and a run\'s live progress', load: () => import('./serve.ts').then((m) => m.serveCommand) },
  { name: 'eval', summary: 'run one network at one stage on given inputs', load: () => import('./eval.ts').then((m) => m.evalCommand) },
];

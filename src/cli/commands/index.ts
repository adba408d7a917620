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
  { name: 'eval', summary: 'run one network at one stage on given inputs', load: () => import('./eval.ts').then((m) => m.evalCommand) },
];

// Block and repeat expansion. `checkBodies` resolves names statically (block calls, argument counts,
// parameter references, recursion) in every loaded file, whether or not a model uses the block.
// `expand` then turns a layer list into flat built-in layers with every parameter reference
// replaced by its argument.
import type { BlockDecl, BlockParam, LayerOption, LayerStatement, SourceFile, Value } from '../frontend/ast.ts';
import { didYouMean, type Span } from '../frontend/diagnostics.ts';
import type { BlockEntry } from './modules.ts';
import { describeValue, readInteger, type BlockOrigin, type Reporter } from './report.ts';
import type { LayerOp } from '../frontend/ast.ts';

/** One built-in layer after expansion; `site` is the statement in the model that produced it. */
export interface FlatLayer {
  op: LayerOp;
  arg?: Value | Value[];
  options: LayerOption[];
  site: Span;
  origin?: BlockOrigin;
}

export const paramTypes = ['int', 'real', 'size'] as const;

// Guards against a runaway `repeat`, such as a typo of 8000 for 8, which would otherwise build a huge
// model slowly. NOTE: 10,000 is a judgment call, over 800 times the 12 layers of a StyleGAN synthesis
// stage; raise it if a real model needs more.
export const MAX_SECTION_LAYERS = 10_000;

// Layers whose positional argument is a word (`upsample bilinear`) rather than a number.
const wordArgumentOps = new Set<LayerOp>(['upsample']);

type Environment = Map<string, Value>;

export class Expander {
  constructor(
    private readonly blocks: Map<string, BlockEntry>,
    private readonly report: Reporter,
  ) {}

  /** Checks every block declaration and every layer list of the given files. */
  checkBodies(files: SourceFile[]): void {
    for (const file of files) {
      for (const decl of file.decls) {
        if (decl.kind === 'block') this.checkBlockDecl(decl);
        if (decl.kind !== 'model') continue;
        for (const item of decl.items) {
          if (item.kind === 'mapping') this.checkStatements(item.body, new Set());
          if (item.kind === 'synthesis' || item.kind === 'discriminator') {
            for (const inner of item.items) {
              if (inner.kind === 'stage') this.checkStatements(inner.body, new Set());
            }
          }
        }
      }
    }
    this.checkRecursion();
  }

  /**
   * Expands a layer list. `complete` is false when a call or repeat could not be expanded. Its error
   * is already reported, so callers skip checks of the list's end shape, which would only repeat it.
   */
  expand(body: LayerStatement[]): { layers: FlatLayer[]; complete: boolean } {
    const layers: FlatLayer[] = [];
    this.incomplete = false;
    this.overflowed = false;
    this.expandInto(layers, body, new Map(), undefined, []);
    return { layers, complete: !this.incomplete };
  }

  private incomplete = false;
  private overflowed = false;

  private checkBlockDecl(decl: BlockDecl): void {
    const seen = new Set<string>();
    for (const param of decl.params) {
      if (seen.has(param.name)) {
        this.report.error(param.span, 'E029', `parameter '${param.name}' of block '${decl.name}' is declared twice`);
      }
      seen.add(param.name);
      if (!(paramTypes as readonly string[]).includes(param.type)) {
        const hint = didYouMean(param.type, paramTypes) ?? `parameter types are ${paramTypes.join(', ')}`;
        this.report.error(param.typeSpan, 'E026', `unknown parameter type '${param.type}'`, hint);
      } else if (param.default !== undefined) {
        this.checkArgumentType(param.default, param, decl.name);
      }
    }
    let sawDefault = false;
    for (const param of decl.params) {
      if (param.default !== undefined) sawDefault = true;
      else if (sawDefault) {
        this.report.error(
          param.span,
          'E029',
          `parameter '${param.name}' needs a default value because an earlier parameter has one`,
        );
      }
    }
    this.checkStatements(decl.body, seen);
  }

  private checkStatements(body: LayerStatement[], scope: Set<string>): void {
    for (const statement of body) {
      switch (statement.kind) {
        case 'layer': {
          const args = statement.arg === undefined ? [] : Array.isArray(statement.arg) ? statement.arg : [statement.arg];
          for (const arg of args) {
            if (!wordArgumentOps.has(statement.op)) this.checkName(arg, scope);
          }
          for (const option of statement.options) {
            if (option.value !== undefined) this.checkName(option.value, scope);
          }
          break;
        }
        case 'repeat':
          this.checkName(statement.count, scope);
          this.checkStatements(statement.body, scope);
          break;
        case 'call':
          this.checkCall(statement, scope);
          break;
      }
    }
  }

  private checkCall(call: Extract<LayerStatement, { kind: 'call' }>, scope: Set<string>): void {
    for (const arg of call.args) this.checkName(arg, scope);
    const entry = this.blocks.get(call.name);
    if (entry === undefined) {
      const hint = didYouMean(call.name, this.blocks.keys()) ?? missingBlockHint(this.blocks);
      this.report.error(call.nameSpan, 'E023', `unknown block '${call.name}'`, hint);
      return;
    }
    const params = entry.decl.params;
    const required = params.filter((p) => p.default === undefined).length;
    if (call.args.length < required || call.args.length > params.length) {
      const expected = required === params.length ? `${required}` : `${required} to ${params.length}`;
      const plural = params.length === 1 && required === 1 ? 'argument' : 'arguments';
      const signature = `${call.name}(${params.map(describeParam).join(', ')})`;
      this.report.error(
        call.span,
        'E024',
        `block '${call.name}' takes ${expected} ${plural} but was given ${call.args.length}`,
        `the block is declared as ${signature}`,
      );
      return;
    }
    call.args.forEach((arg, i) => {
      if (arg.kind !== 'name') this.checkArgumentType(arg, params[i]!, call.name);
    });
  }

  private checkName(value: Value, scope: Set<string>): void {
    if (value.kind !== 'name' || scope.has(value.name)) return;
    const hint = didYouMean(value.name, scope) ?? (scope.size === 0 ? 'names can only refer to block parameters' : undefined);
    this.report.error(value.span, 'E027', `unknown name '${value.name}'`, hint);
  }

  /** Returns whether `value` fits the parameter's type, reporting an error when it does not. */
  private checkArgumentType(value: Value, param: BlockParam, block: string): boolean {
    const ok =
      (param.type === 'size' && value.kind === 'dims') ||
      (param.type === 'real' && value.kind === 'number') ||
      (param.type === 'int' && value.kind === 'number' && Number.isInteger(value.value));
    if (!ok && (paramTypes as readonly string[]).includes(param.type)) {
      const expected = { int: 'a whole number', real: 'a number', size: "a size such as '3x3'" }[param.type as 'int'];
      this.report.error(
        value.span,
        'E025',
        `argument '${param.name}' of block '${block}' must be ${expected}, found ${describeValue(value)}`,
      );
    }
    return ok;
  }

  private checkRecursion(): void {
    const state = new Map<string, 'active' | 'done'>();
    const visit = (name: string, path: string[]): void => {
      const entry = this.blocks.get(name);
      if (entry === undefined || state.get(name) === 'done') return;
      state.set(name, 'active');
      for (const call of callsIn(entry.decl.body)) {
        if (state.get(call.name) === 'active') {
          const cycle = [...path.slice(path.indexOf(call.name)), name, call.name].join(' -> ');
          this.report.error(
            call.nameSpan,
            'E028',
            `block '${call.name}' calls itself: ${cycle}`,
            'blocks cannot be recursive; use repeat',
          );
          continue;
        }
        visit(call.name, [...path, name]);
      }
      state.set(name, 'done');
    };
    for (const name of this.blocks.keys()) visit(name, []);
  }

  private expandInto(
    out: FlatLayer[],
    body: LayerStatement[],
    env: Environment,
    outer: { site: Span; origin?: BlockOrigin } | undefined,
    stack: string[],
  ): void {
    for (const statement of body) {
      const site = outer?.site ?? statement.span;
      switch (statement.kind) {
        case 'layer': {
          if (out.length >= MAX_SECTION_LAYERS) {
            if (!this.overflowed) {
              this.report.error(
                site,
                'E059',
                `this section expands to more than ${MAX_SECTION_LAYERS} layers`,
                'check the repeat counts',
              );
            }
            this.overflowed = true;
            this.incomplete = true;
            return;
          }
          const flat: FlatLayer = {
            op: statement.op,
            options: statement.options.map((o) => (o.value === undefined ? o : { ...o, value: substitute(o.value, env) })),
            site,
          };
          if (statement.arg !== undefined) {
            const arg = statement.arg;
            flat.arg = Array.isArray(arg) ? arg.map((v) => substitute(v, env)) : substitute(arg, env);
          }
          const block = stack[stack.length - 1];
          if (block !== undefined) flat.origin = { block, span: statement.span };
          out.push(flat);
          break;
        }
        case 'repeat': {
          const count = readInteger(this.report, substitute(statement.count, env), 'the repeat count');
          if (count === undefined) this.incomplete = true;
          const inner = outer ?? { site: statement.span };
          for (let i = 0; i < (count ?? 0) && !this.overflowed; i++) {
            this.expandInto(out, statement.body, env, inner, stack);
          }
          break;
        }
        case 'call': {
          const entry = this.blocks.get(statement.name);
          // Unknown blocks, bad arity and recursion were reported by checkBodies.
          if (entry === undefined || stack.includes(statement.name) || statement.args.length > entry.decl.params.length) {
            this.incomplete = true;
            break;
          }
          const params = entry.decl.params;
          const inner = new Map<string, Value>();
          let bound = true;
          params.forEach((param, i) => {
            const argument = statement.args[i];
            const value = argument === undefined ? param.default : substitute(argument, env);
            if (value === undefined) bound = false;
            else if (value.kind !== 'name' && !this.checkArgumentType(value, param, statement.name)) bound = false;
            else inner.set(param.name, value);
          });
          if (!bound) {
            this.incomplete = true;
            break;
          }
          this.expandInto(out, entry.decl.body, inner, { site }, [...stack, statement.name]);
          break;
        }
      }
    }
  }
}

function substitute(value: Value, env: Environment): Value {
  if (value.kind !== 'name') return value;
  return env.get(value.name) ?? value;
}

function callsIn(body: LayerStatement[]): Extract<LayerStatement, { kind: 'call' }>[] {
  const calls: Extract<LayerStatement, { kind: 'call' }>[] = [];
  for (const statement of body) {
    if (statement.kind === 'call') calls.push(statement);
    if (statement.kind === 'repeat') calls.push(...callsIn(statement.body));
  }
  return calls;
}

function describeParam(param: BlockParam): string {
  const declared = `${param.name}: ${param.type}`;
  return param.default === undefined ? declared : `${declared} = ${describeValue(param.default)}`;
}

function missingBlockHint(blocks: Map<string, BlockEntry>): string {
  if (blocks.size === 0) return "no blocks are declared; 'import std.stylegan' provides the standard ones";
  return `declared blocks: ${[...blocks.keys()].sort().join(', ')}`;
}

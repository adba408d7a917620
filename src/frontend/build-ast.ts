// Builds the AST from the typed CST of grammar/parser.ts. Chevrotain groups a node's children by
// rule name, so statements of different kinds are merged back into source order by offset. After
// error recovery a node may lack tokens; such a node is dropped, because the parser already
// reported why.
import type { CstNode, IToken } from 'chevrotain';
import type * as C from '../../grammar/cst.d.ts';
import type * as A from './ast.ts';
import { errorAt, type Diagnostic, type Span } from './diagnostics.ts';

export class AstBuilder {
  readonly diagnostics: Diagnostic[] = [];

  constructor(private readonly file: string) {}

  buildFile(node: C.FileCstNode, comments: A.Comment[]): A.SourceFile {
    const children = node.children;
    const decls = inSourceOrder<CstNode>([
      ...(children.importDecl ?? []),
      ...(children.blockDecl ?? []),
      ...(children.modelDecl ?? []),
    ]);
    const built: A.Decl[] = [];
    for (const decl of decls) {
      const result = this.buildDecl(decl);
      if (result !== undefined) built.push(result);
    }
    return { file: this.file, decls: built, comments };
  }

  private buildDecl(node: CstNode): A.Decl | undefined {
    switch (node.name) {
      case 'importDecl':
        return this.buildImport(node as C.ImportDeclCstNode);
      case 'blockDecl':
        return this.buildBlock(node as C.BlockDeclCstNode);
      case 'modelDecl':
        return this.buildModel(node as C.ModelDeclCstNode);
      default:
        return undefined;
    }
  }

  private buildImport(node: C.ImportDeclCstNode): A.ImportDecl | undefined {
    const names = node.children.Identifier ?? [];
    if (names.length === 0) return undefined;
    return { kind: 'import', path: names.map((t) => t.image), span: this.nodeSpan(node) };
  }

  private buildBlock(node: C.BlockDeclCstNode): A.BlockDecl | undefined {
    const name = node.children.Identifier?.[0];
    const body = node.children.layerBody?.[0];
    if (name === undefined || body === undefined) return undefined;
    const params = node.children.blockParam ?? [];
    this.reportMissingCommas(params, node.children.Comma, 'parameters');
    const built: A.BlockParam[] = [];
    for (const param of params) {
      const result = this.buildParam(param);
      if (result !== undefined) built.push(result);
    }
    return {
      kind: 'block',
      name: name.image,
      params: built,
      body: this.buildLayerBody(body),
      span: this.nodeSpan(node),
      nameSpan: this.tokenSpan(name),
    };
  }

  private buildParam(node: C.BlockParamCstNode): A.BlockParam | undefined {
    const [name, type] = node.children.Identifier ?? [];
    if (name === undefined || type === undefined) return undefined;
    const param: A.BlockParam = {
      name: name.image,
      type: type.image,
      span: this.nodeSpan(node),
      typeSpan: this.tokenSpan(type),
    };
    const defaultValue = this.optionalValue(node.children.value?.[0]);
    if (defaultValue !== undefined) param.default = defaultValue;
    return param;
  }

  private buildModel(node: C.ModelDeclCstNode): A.ModelDecl | undefined {
    const name = node.children.Identifier?.[0];
    if (name === undefined) return undefined;
    const c = node.children;
    const items = inSourceOrder<CstNode>([
      ...(c.latentDecl ?? []),
      ...(c.styleDecl ?? []),
      ...(c.imageDecl ?? []),
      ...(c.channelsDecl ?? []),
      ...(c.mappingDecl ?? []),
      ...(c.synthesisDecl ?? []),
      ...(c.discriminatorDecl ?? []),
      ...(c.trainDecl ?? []),
    ]);
    const built: A.ModelItem[] = [];
    for (const item of items) {
      const result = this.buildModelItem(item);
      if (result !== undefined) built.push(result);
    }
    return { kind: 'model', name: name.image, items: built, span: this.nodeSpan(node), nameSpan: this.tokenSpan(name) };
  }

  private buildModelItem(node: CstNode): A.ModelItem | undefined {
    const span = this.nodeSpan(node);
    switch (node.name) {
      case 'latentDecl':
      case 'styleDecl': {
        const children = (node as C.LatentDeclCstNode | C.StyleDeclCstNode).children;
        const name = children.Identifier?.[0];
        const size = this.optionalValue(children.value?.[0]);
        if (name === undefined || size === undefined) return undefined;
        const kind = node.name === 'latentDecl' ? 'latent' : 'style';
        return { kind, name: name.image, size, span };
      }
      case 'imageDecl': {
        const dims = this.optionalValue((node as C.ImageDeclCstNode).children.value?.[0]);
        return dims === undefined ? undefined : { kind: 'image', dims, span };
      }
      case 'channelsDecl': {
        const map = (node as C.ChannelsDeclCstNode).children.resMap?.[0];
        return map === undefined ? undefined : { kind: 'channels', map: this.buildResMap(map), span };
      }
      case 'mappingDecl': {
        const body = (node as C.MappingDeclCstNode).children.layerBody?.[0];
        return body === undefined ? undefined : { kind: 'mapping', body: this.buildLayerBody(body), span };
      }
      case 'synthesisDecl':
        return { kind: 'synthesis', items: this.buildSynthesisItems(node as C.SynthesisDeclCstNode), span };
      case 'discriminatorDecl':
        return { kind: 'discriminator', items: this.buildDiscriminatorItems(node as C.DiscriminatorDeclCstNode), span };
      case 'trainDecl': {
        const settings: A.TrainSetting[] = [];
        for (const setting of (node as C.TrainDeclCstNode).children.trainSetting ?? []) {
          const result = this.buildTrainSetting(setting);
          if (result !== undefined) settings.push(result);
        }
        return { kind: 'train', settings, span };
      }
      default:
        return undefined;
    }
  }

  private buildSynthesisItems(node: C.SynthesisDeclCstNode): A.SynthesisItem[] {
    const c = node.children;
    const items = inSourceOrder<CstNode>([
      ...(c.constDecl ?? []),
      ...(c.stageDecl ?? []),
      ...(c.torgbDecl ?? []),
      ...(c.fadeDecl ?? []),
    ]);
    const built: A.SynthesisItem[] = [];
    for (const item of items) {
      const span = this.nodeSpan(item);
      if (item.name === 'constDecl') {
        const size = this.optionalValue((item as C.ConstDeclCstNode).children.value?.[0]);
        if (size !== undefined) built.push({ kind: 'const', size, span });
      } else if (item.name === 'stageDecl') {
        const stage = this.buildStage(item as C.StageDeclCstNode);
        if (stage !== undefined) built.push(stage);
      } else if (item.name === 'torgbDecl') {
        if ((item as C.TorgbDeclCstNode).children.Stage?.[0] !== undefined) built.push({ kind: 'torgb', span });
      } else if (item.name === 'fadeDecl') {
        const mode = (item as C.FadeDeclCstNode).children.Identifier?.[0];
        if (mode !== undefined) built.push({ kind: 'fade', mode: mode.image, modeSpan: this.tokenSpan(mode), span });
      }
    }
    return built;
  }

  private buildDiscriminatorItems(node: C.DiscriminatorDeclCstNode): A.DiscriminatorItem[] {
    const c = node.children;
    const items = inSourceOrder<CstNode>([...(c.fromrgbDecl ?? []), ...(c.stageDecl ?? [])]);
    const built: A.DiscriminatorItem[] = [];
    for (const item of items) {
      if (item.name === 'fromrgbDecl') {
        if ((item as C.FromrgbDeclCstNode).children.Stage?.[0] !== undefined) {
          built.push({ kind: 'fromrgb', span: this.nodeSpan(item) });
        }
      } else {
        const stage = this.buildStage(item as C.StageDeclCstNode);
        if (stage !== undefined) built.push(stage);
      }
    }
    return built;
  }

  private buildStage(node: C.StageDeclCstNode): A.StageDecl | undefined {
    const [from, to] = (node.children.value ?? []).map((v) => this.optionalValue(v));
    const body = node.children.layerBody?.[0];
    if (from === undefined || body === undefined) return undefined;
    const stage: A.StageDecl = { kind: 'stage', from, body: this.buildLayerBody(body), span: this.nodeSpan(node) };
    if (node.children.DotDot !== undefined) {
      if (to === undefined) return undefined;
      stage.to = to;
    }
    return stage;
  }

  private buildTrainSetting(node: C.TrainSettingCstNode): A.TrainSetting | undefined {
    const c = node.children;
    const values = (inner: CstNode | undefined): (A.Value | undefined)[] => {
      const valueNodes = (inner?.children['value'] ?? []) as C.ValueCstNode[];
      return valueNodes.map((v) => this.optionalValue(v));
    };
    const settingNode: CstNode | undefined = Object.values(c).flat()[0] as CstNode | undefined;
    if (settingNode === undefined) return undefined;
    const span = this.nodeSpan(settingNode);
    const v = values(settingNode);
    const all = <T>(list: (T | undefined)[], count: number): list is T[] =>
      list.length >= count && list.slice(0, count).every((x) => x !== undefined);

    switch (settingNode.name) {
      case 'lossSetting': {
        const name = (settingNode as C.LossSettingCstNode).children.Identifier?.[0];
        return name === undefined ? undefined : { kind: 'loss', name: name.image, nameSpan: this.tokenSpan(name), span };
      }
      case 'r1Setting':
        return all(v, 1) ? { kind: 'r1', gamma: v[0]!, span } : undefined;
      case 'adamSetting':
        return all(v, 3) ? { kind: 'adam', beta1: v[0]!, beta2: v[1]!, eps: v[2]!, span } : undefined;
      case 'lrSetting': {
        if (!all(v, 1)) return undefined;
        const map = (settingNode as C.LrSettingCstNode).children.resMap?.[0];
        const setting: A.TrainSetting = { kind: 'lr', base: v[0]!, span };
        if (map !== undefined) setting.perRes = this.buildResMap(map);
        return setting;
      }
      case 'batchSetting': {
        const map = (settingNode as C.BatchSettingCstNode).children.resMap?.[0];
        const setting: A.TrainSetting = { kind: 'batch', span };
        if (v[0] !== undefined) setting.base = v[0];
        if (map !== undefined) setting.perRes = this.buildResMap(map);
        return setting.base === undefined && setting.perRes === undefined ? undefined : setting;
      }
      case 'growSetting':
        return all(v, 3) ? { kind: 'grow', from: v[0]!, stable: v[1]!, fade: v[2]!, span } : undefined;
      case 'mixingSetting':
        return all(v, 1) ? { kind: 'mixing', prob: v[0]!, span } : undefined;
      case 'emaSetting':
        return all(v, 1) ? { kind: 'ema', images: v[0]!, span } : undefined;
      case 'wavgSetting':
        return all(v, 1) ? { kind: 'wavg', decay: v[0]!, span } : undefined;
      case 'truncationSetting':
        return all(v, 2) ? { kind: 'truncation', psi: v[0]!, cutoff: v[1]!, span } : undefined;
      case 'mirrorSetting': {
        const setting = (settingNode as C.MirrorSettingCstNode).children.Identifier?.[0];
        if (setting === undefined) return undefined;
        return { kind: 'mirror', setting: setting.image, settingSpan: this.tokenSpan(setting), span };
      }
      default:
        return undefined;
    }
  }

  private buildResMap(node: C.ResMapCstNode): A.ResMap {
    const entries = node.children.mapEntry ?? [];
    this.reportMissingCommas(entries, node.children.Comma, 'map entries');
    const built: A.MapEntry[] = [];
    for (const entry of entries) {
      const [key, value] = (entry.children.value ?? []).map((v) => this.optionalValue(v));
      if (key !== undefined && value !== undefined) built.push({ key, value, span: this.nodeSpan(entry) });
    }
    return { entries: built, span: this.nodeSpan(node) };
  }

  private buildLayerBody(node: C.LayerBodyCstNode): A.LayerStatement[] {
    const built: A.LayerStatement[] = [];
    for (const statement of node.children.layerStatement ?? []) {
      const result = this.buildLayerStatement(statement);
      if (result !== undefined) built.push(result);
    }
    return built;
  }

  private buildLayerStatement(node: C.LayerStatementCstNode): A.LayerStatement | undefined {
    const c = node.children;
    if (c.layerOp?.[0] !== undefined) return this.buildLayerOp(c.layerOp[0]);
    if (c.repeatStatement?.[0] !== undefined) {
      const repeat = c.repeatStatement[0];
      const count = this.optionalValue(repeat.children.value?.[0]);
      const body = repeat.children.layerBody?.[0];
      if (count === undefined || body === undefined) return undefined;
      return { kind: 'repeat', count, body: this.buildLayerBody(body), span: this.nodeSpan(repeat) };
    }
    if (c.callStatement?.[0] !== undefined) {
      const call = c.callStatement[0];
      const name = call.children.Identifier?.[0];
      if (name === undefined) return undefined;
      const argNodes = call.children.value ?? [];
      this.reportMissingCommas(argNodes, call.children.Comma, 'arguments');
      const args = argNodes.map((v) => this.optionalValue(v)).filter((v): v is A.Value => v !== undefined);
      return { kind: 'call', name: name.image, args, span: this.nodeSpan(call), nameSpan: this.tokenSpan(name) };
    }
    return undefined;
  }

  private buildLayerOp(node: C.LayerOpCstNode): A.LayerStatement | undefined {
    const c = node.children;
    const keyword = Object.entries(c).find(([key]) => /^[A-Z]/.test(key))?.[1]?.[0] as IToken | undefined;
    if (keyword === undefined) return undefined;
    const op = keyword.image as A.LayerOp;
    const statement: A.LayerStatement = { kind: 'layer', op, options: [], span: this.nodeSpan(node) };
    const single = this.optionalValue(c.value?.[0]);
    if (single !== undefined) statement.arg = single;
    const list = c.valueList?.[0];
    if (list !== undefined) {
      const items = list.children.value ?? [];
      this.reportMissingCommas(items, list.children.Comma, 'list items');
      statement.arg = items.map((v) => this.optionalValue(v)).filter((v): v is A.Value => v !== undefined);
    }
    for (const option of c.layerOption ?? []) {
      const optionToken = Object.entries(option.children).find(([key]) => /^[A-Z]/.test(key))?.[1]?.[0] as
        | IToken
        | undefined;
      if (optionToken === undefined) continue;
      const built: A.LayerOption = { name: optionToken.image as A.OptionName, span: this.nodeSpan(option) };
      const value = this.optionalValue(option.children.value?.[0]);
      if (value !== undefined) built.value = value;
      else if (built.name !== 'nobias') continue;
      statement.options.push(built);
    }
    return statement;
  }

  private optionalValue(node: C.ValueCstNode | undefined): A.Value | undefined {
    if (node === undefined) return undefined;
    const c = node.children;
    const token = c.NumberLiteral?.[0] ?? c.Dimensions?.[0] ?? c.Identifier?.[0];
    if (token === undefined || Number.isNaN(token.startOffset)) return undefined;
    const span = this.tokenSpan(token);
    if (c.NumberLiteral?.[0] !== undefined) return { kind: 'number', value: parseNumber(token.image), text: token.image, span };
    if (c.Dimensions?.[0] !== undefined) {
      return { kind: 'dims', dims: token.image.split('x').map((part) => Number(part.trim())), span };
    }
    return { kind: 'name', name: token.image, span };
  }

  /**
   * Reports one missing comma between each pair of adjacent items that has none. The caret is on the
   * item that should follow the comma.
   */
  private reportMissingCommas(items: CstNode[], commas: IToken[] | undefined, itemsName: string): void {
    const commaOffsets = (commas ?? []).map((t) => t.startOffset);
    for (let i = 1; i < items.length; i++) {
      const previousEnd = items[i - 1]!.location?.endOffset ?? NaN;
      const nextStart = items[i]!.location?.startOffset ?? NaN;
      if (Number.isNaN(previousEnd) || Number.isNaN(nextStart)) continue;
      const separated = commaOffsets.some((offset) => offset > previousEnd && offset < nextStart);
      if (!separated) {
        this.diagnostics.push(
          errorAt(this.nodeSpan(items[i]!), 'E011', `missing ',' between ${itemsName}`, "separate items with ','"),
        );
      }
    }
  }

  tokenSpan(token: IToken): Span {
    return {
      file: this.file,
      offset: token.startOffset,
      line: token.startLine ?? 1,
      column: token.startColumn ?? 1,
      length: token.image.length,
    };
  }

  private nodeSpan(node: CstNode): Span {
    const location = node.location;
    if (location === undefined || Number.isNaN(location.startOffset)) {
      return { file: this.file, offset: 0, line: 1, column: 1, length: 1 };
    }
    const endOffset = location.endOffset ?? NaN;
    const end = Number.isNaN(endOffset) ? location.startOffset : endOffset;
    return {
      file: this.file,
      offset: location.startOffset,
      line: location.startLine ?? 1,
      column: location.startColumn ?? 1,
      length: end - location.startOffset + 1,
    };
  }
}

/** Parses a number literal; a trailing `k` multiplies by 1000. */
export function parseNumber(text: string): number {
  // Appending an exponent, rather than multiplying, keeps `0.3k` exactly 300.
  if (!text.endsWith('k')) return Number(text);
  const mantissa = text.slice(0, -1);
  const exponent = /e([+-]?\d+)$/i.exec(mantissa);
  if (exponent === null) return Number(`${mantissa}e3`);
  return Number(`${mantissa.slice(0, exponent.index)}e${Number(exponent[1]) + 3}`);
}

function inSourceOrder<T extends CstNode>(nodes: T[]): T[] {
  const offset = (node: T): number => {
    const start = node.location?.startOffset;
    return start === undefined || Number.isNaN(start) ? Infinity : start;
  };
  return [...nodes].sort((a, b) => offset(a) - offset(b));
}

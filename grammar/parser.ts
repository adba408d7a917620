// The .sgan grammar as a Chevrotain CstParser. One rule per construct, named the way the language
// reference names it. Semicolons between statements are optional, because every statement ends
// where the next keyword or `}` starts. Commas in lists are optional to the parser so that a missing
// comma becomes one diagnostic from the AST builder and the remaining items are kept.
import { CstParser, type CstNode } from 'chevrotain';
import { sganErrorMessages } from './messages.ts';
import * as T from './tokens.ts';

export class SganParser extends CstParser {
  constructor() {
    super(T.allTokens, {
      recoveryEnabled: true,
      maxLookahead: 3,
      nodeLocationTracking: 'full',
      errorMessageProvider: sganErrorMessages,
    });
    this.performSelfAnalysis();
  }

  public file = this.RULE('file', () => {
    this.MANY(() => {
      this.OR([
        { ALT: () => this.SUBRULE(this.importDecl) },
        { ALT: () => this.SUBRULE(this.blockDecl) },
        { ALT: () => this.SUBRULE(this.modelDecl) },
      ]);
    });
  });

  // import std.stylegan
  private importDecl = this.RULE('importDecl', () => {
    this.CONSUME(T.Import);
    this.CONSUME(T.Identifier);
    this.MANY(() => {
      this.CONSUME(T.Dot);
      this.CONSUME2(T.Identifier);
    });
    this.OPTION(() => this.CONSUME(T.Semicolon));
  });

  // block gblock(k: size = 3x3) { ... }
  private blockDecl = this.RULE('blockDecl', () => {
    this.CONSUME(T.Block);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.LParen);
    this.OPTION(() => {
      this.SUBRULE(this.blockParam);
      this.MANY(() => {
        this.OPTION2(() => this.CONSUME(T.Comma));
        this.SUBRULE2(this.blockParam);
      });
    });
    this.CONSUME(T.RParen);
    this.SUBRULE(this.layerBody);
  });

  private blockParam = this.RULE('blockParam', () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    this.CONSUME2(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE(this.value);
    });
  });

  private modelDecl = this.RULE('modelDecl', () => {
    this.CONSUME(T.Model);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.LCurly);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.SUBRULE(this.latentDecl) },
        { ALT: () => this.SUBRULE(this.styleDecl) },
        { ALT: () => this.SUBRULE(this.imageDecl) },
        { ALT: () => this.SUBRULE(this.channelsDecl) },
        { ALT: () => this.SUBRULE(this.mappingDecl) },
        { ALT: () => this.SUBRULE(this.synthesisDecl) },
        { ALT: () => this.SUBRULE(this.discriminatorDecl) },
        { ALT: () => this.SUBRULE(this.trainDecl) },
      ]);
      this.OPTION(() => this.CONSUME(T.Semicolon));
    });
    this.CONSUME(T.RCurly);
  });

  private latentDecl = this.RULE('latentDecl', () => {
    this.CONSUME(T.Latent);
    this.CONSUME(T.Identifier);
    this.SUBRULE(this.value);
  });

  private styleDecl = this.RULE('styleDecl', () => {
    this.CONSUME(T.Style);
    this.CONSUME(T.Identifier);
    this.SUBRULE(this.value);
  });

  private imageDecl = this.RULE('imageDecl', () => {
    this.CONSUME(T.Image);
    this.SUBRULE(this.value);
  });

  private channelsDecl = this.RULE('channelsDecl', () => {
    this.CONSUME(T.Channels);
    this.SUBRULE(this.resMap);
  });

  // { 4: 512, 8: 512 }
  private resMap = this.RULE('resMap', () => {
    this.CONSUME(T.LCurly);
    this.OPTION(() => {
      this.SUBRULE(this.mapEntry);
      this.MANY(() => {
        this.OPTION2(() => this.CONSUME(T.Comma));
        this.SUBRULE2(this.mapEntry);
      });
      this.OPTION3(() => this.CONSUME2(T.Comma));
    });
    this.CONSUME(T.RCurly);
  });

  private mapEntry = this.RULE('mapEntry', () => {
    this.SUBRULE(this.value);
    this.CONSUME(T.Colon);
    this.SUBRULE2(this.value);
  });

  private mappingDecl = this.RULE('mappingDecl', () => {
    this.CONSUME(T.Mapping);
    this.SUBRULE(this.layerBody);
  });

  private synthesisDecl = this.RULE('synthesisDecl', () => {
    this.CONSUME(T.Synthesis);
    this.CONSUME(T.LCurly);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.SUBRULE(this.constDecl) },
        { ALT: () => this.SUBRULE(this.stageDecl) },
        { ALT: () => this.SUBRULE(this.torgbDecl) },
        { ALT: () => this.SUBRULE(this.fadeDecl) },
      ]);
      this.OPTION(() => this.CONSUME(T.Semicolon));
    });
    this.CONSUME(T.RCurly);
  });

  private constDecl = this.RULE('constDecl', () => {
    this.CONSUME(T.Const);
    this.SUBRULE(this.value);
  });

  // stage 8..1024 { ... }
  private stageDecl = this.RULE('stageDecl', () => {
    this.CONSUME(T.Stage);
    this.SUBRULE(this.value);
    this.OPTION(() => {
      this.CONSUME(T.DotDot);
      this.SUBRULE2(this.value);
    });
    this.SUBRULE(this.layerBody);
  });

  private torgbDecl = this.RULE('torgbDecl', () => {
    this.CONSUME(T.Torgb);
    this.CONSUME(T.Each);
    this.CONSUME(T.Stage);
  });

  private fadeDecl = this.RULE('fadeDecl', () => {
    this.CONSUME(T.Fade);
    this.CONSUME(T.Identifier);
  });

  private discriminatorDecl = this.RULE('discriminatorDecl', () => {
    this.CONSUME(T.Discriminator);
    this.CONSUME(T.LCurly);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.SUBRULE(this.fromrgbDecl) },
        { ALT: () => this.SUBRULE(this.stageDecl) },
      ]);
      this.OPTION(() => this.CONSUME(T.Semicolon));
    });
    this.CONSUME(T.RCurly);
  });

  private fromrgbDecl = this.RULE('fromrgbDecl', () => {
    this.CONSUME(T.Fromrgb);
    this.CONSUME(T.Each);
    this.CONSUME(T.Stage);
  });

  private trainDecl = this.RULE('trainDecl', () => {
    this.CONSUME(T.Train);
    this.CONSUME(T.LCurly);
    this.MANY(() => {
      this.SUBRULE(this.trainSetting);
      this.OPTION(() => this.CONSUME(T.Semicolon));
    });
    this.CONSUME(T.RCurly);
  });

  private trainSetting = this.RULE('trainSetting', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.lossSetting) },
      { ALT: () => this.SUBRULE(this.r1Setting) },
      { ALT: () => this.SUBRULE(this.adamSetting) },
      { ALT: () => this.SUBRULE(this.lrSetting) },
      { ALT: () => this.SUBRULE(this.batchSetting) },
      { ALT: () => this.SUBRULE(this.growSetting) },
      { ALT: () => this.SUBRULE(this.mixingSetting) },
      { ALT: () => this.SUBRULE(this.emaSetting) },
      { ALT: () => this.SUBRULE(this.wavgSetting) },
      { ALT: () => this.SUBRULE(this.truncationSetting) },
      { ALT: () => this.SUBRULE(this.mirrorSetting) },
    ]);
  });

  private lossSetting = this.RULE('lossSetting', () => {
    this.CONSUME(T.Loss);
    this.CONSUME(T.Identifier);
  });

  private r1Setting = this.RULE('r1Setting', () => {
    this.CONSUME(T.R1);
    this.SUBRULE(this.value);
  });

  // adam beta1 beta2 eps
  private adamSetting = this.RULE('adamSetting', () => {
    this.CONSUME(T.Adam);
    this.SUBRULE(this.value);
    this.SUBRULE2(this.value);
    this.SUBRULE3(this.value);
  });

  // lr 0.001 { 128: 0.0015 }
  private lrSetting = this.RULE('lrSetting', () => {
    this.CONSUME(T.Lr);
    this.SUBRULE(this.value);
    this.OPTION(() => this.SUBRULE(this.resMap));
  });

  // batch 4 { 4: 128, 8: 128 } or batch { 8: 32 }
  private batchSetting = this.RULE('batchSetting', () => {
    this.CONSUME(T.Batch);
    this.OR([
      {
        ALT: () => {
          this.SUBRULE(this.value);
          this.OPTION(() => this.SUBRULE(this.resMap));
        },
      },
      { ALT: () => this.SUBRULE2(this.resMap) },
    ]);
  });

  // grow from 8 stable 600k fade 600k
  private growSetting = this.RULE('growSetting', () => {
    this.CONSUME(T.Grow);
    this.CONSUME(T.From);
    this.SUBRULE(this.value);
    this.CONSUME(T.Stable);
    this.SUBRULE2(this.value);
    this.CONSUME(T.Fade);
    this.SUBRULE3(this.value);
  });

  private mixingSetting = this.RULE('mixingSetting', () => {
    this.CONSUME(T.Mixing);
    this.SUBRULE(this.value);
  });

  private emaSetting = this.RULE('emaSetting', () => {
    this.CONSUME(T.Ema);
    this.SUBRULE(this.value);
  });

  private wavgSetting = this.RULE('wavgSetting', () => {
    this.CONSUME(T.Wavg);
    this.CONSUME(T.Decay);
    this.SUBRULE(this.value);
  });

  private truncationSetting = this.RULE('truncationSetting', () => {
    this.CONSUME(T.Truncation);
    this.SUBRULE(this.value);
    this.CONSUME(T.Cutoff);
    this.SUBRULE2(this.value);
  });

  private mirrorSetting = this.RULE('mirrorSetting', () => {
    this.CONSUME(T.Mirror);
    this.CONSUME(T.Identifier);
  });

  // The statements of a mapping network, a stage, a block or a repeat.
  private layerBody = this.RULE('layerBody', () => {
    this.CONSUME(T.LCurly);
    this.MANY(() => {
      this.SUBRULE(this.layerStatement);
      this.OPTION(() => this.CONSUME(T.Semicolon));
    });
    this.CONSUME(T.RCurly);
  });

  private layerStatement = this.RULE('layerStatement', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.layerOp) },
      { ALT: () => this.SUBRULE(this.repeatStatement) },
      { ALT: () => this.SUBRULE(this.callStatement) },
    ]);
  });

  // A built-in layer: its keyword, positional arguments, then options such as `lrmul 0.01`.
  private layerOp = this.RULE('layerOp', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Pixelnorm) },
      { ALT: () => this.CONSUME(T.Dense) },
      { ALT: () => this.CONSUME(T.Conv) },
      { ALT: () => this.CONSUME(T.Bias) },
      { ALT: () => this.CONSUME(T.Lrelu) },
      { ALT: () => this.CONSUME(T.Noise) },
      { ALT: () => this.CONSUME(T.Adain) },
      { ALT: () => this.CONSUME(T.Upsample) },
      { ALT: () => this.CONSUME(T.Downsample) },
      { ALT: () => this.CONSUME(T.Blur) },
      { ALT: () => this.CONSUME(T.Mbstd) },
      { ALT: () => this.CONSUME(T.Flatten) },
    ]);
    // `lrelu 0.2`, `dense 512`, `upsample bilinear`: a name followed by `(` starts the next
    // statement, a block call, so it is not taken as an argument.
    this.OPTION({
      GATE: () => this.LA(1).tokenType !== T.Identifier || this.LA(2).tokenType !== T.LParen,
      DEF: () => {
        this.OR2([{ ALT: () => this.SUBRULE(this.value) }, { ALT: () => this.SUBRULE(this.valueList) }]);
      },
    });
    this.MANY(() => this.SUBRULE(this.layerOption));
  });

  // [1, 2, 1]
  private valueList = this.RULE('valueList', () => {
    this.CONSUME(T.LBracket);
    this.OPTION(() => {
      this.SUBRULE(this.value);
      this.MANY(() => {
        this.OPTION2(() => this.CONSUME(T.Comma));
        this.SUBRULE2(this.value);
      });
    });
    this.CONSUME(T.RBracket);
  });

  private layerOption = this.RULE('layerOption', () => {
    this.OR([
      {
        ALT: () => {
          this.OR2([
            { ALT: () => this.CONSUME(T.Lrmul) },
            { ALT: () => this.CONSUME(T.Gain) },
            { ALT: () => this.CONSUME(T.Out) },
            { ALT: () => this.CONSUME(T.Eps) },
            { ALT: () => this.CONSUME(T.Group) },
            { ALT: () => this.CONSUME(T.Features) },
          ]);
          this.SUBRULE(this.value);
        },
      },
      { ALT: () => this.CONSUME(T.Nobias) },
    ]);
  });

  // repeat 8 { dense 512 lrmul 0.01; lrelu 0.2 }
  private repeatStatement = this.RULE('repeatStatement', () => {
    this.CONSUME(T.Repeat);
    this.SUBRULE(this.value);
    this.SUBRULE(this.layerBody);
  });

  // epilogue() or gblock(3x3, 0.2)
  private callStatement = this.RULE('callStatement', () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.LParen);
    this.OPTION(() => {
      this.SUBRULE(this.value);
      this.MANY(() => {
        this.OPTION2(() => this.CONSUME(T.Comma));
        this.SUBRULE2(this.value);
      });
    });
    this.CONSUME(T.RParen);
  });

  private value = this.RULE('value', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.NumberLiteral) },
      { ALT: () => this.CONSUME(T.Dimensions) },
      { ALT: () => this.CONSUME(T.Identifier) },
    ]);
  });
}

/** One shared parser instance; Chevrotain parsers are reusable by resetting `input`. */
export const sganParser = new SganParser();

export type { CstNode };

import type { BuildOptions } from 'esbuild';

export declare const COMMON: BuildOptions;
export declare const CORE: BuildOptions;
export declare const UMD: BuildOptions;
export declare const HEADLESS_UMD: BuildOptions;
export declare const MEDIA: BuildOptions;
export declare function build(outdir?: string): Promise<string>;

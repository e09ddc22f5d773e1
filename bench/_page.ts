// The browser example's whole script (examples/browser/app.ts with the
// library it imports), min+gz, beside the official Looker SDK runtime's
// browser sign-in (bench/_sdk_rtl_browser.ts) bundled the same way in the
// same run.
import { bundle, gzipSize } from "./_sections.ts";
import { say } from "./_measure.ts";

/** Sizes in bytes. */
export interface Size {
  minified: number;
  gzip: number;
}

/** What {@linkcode benchPage} measured. */
export interface PageFigures {
  /** examples/browser/app.ts and everything it imports. */
  page: Size;
  /**
   * The same script with oauth4webapi left external: the page's own code and
   * this library's, without the checks oauth4webapi makes.
   */
  own: Size;
  /** @looker/sdk-rtl's OAuthSession, BrowserTransport, BrowserCryptoHash. */
  sdkRtl: Size;
  /** page ÷ sdkRtl, gzipped. */
  ratio: number;
  command: string;
}

/**
 * `deno bundle --platform browser --minify` of the example page's script and
 * of the SDK reference, gzipped with `CompressionStream("gzip")`.
 */
export async function benchPage(): Promise<PageFigures> {
  const command =
    "deno bundle --platform browser --minify examples/browser/app.ts";
  say(`  page:      ${command}`);
  say(
    "  reference: deno bundle --platform browser --minify bench/_sdk_rtl_browser.ts",
  );
  const dir = await Deno.makeTempDir({ prefix: "looker-oauth-page-" });
  try {
    const size = async (
      entry: string,
      out: string,
      extra: string[] = [],
    ): Promise<Size> => {
      const code = await bundle(entry, `${dir}/${out}`, extra);
      return { minified: code.length, gzip: await gzipSize(code) };
    };
    const page = await size("examples/browser/app.ts", "page.min.js");
    const own = await size("examples/browser/app.ts", "page-own.min.js", [
      "--external",
      "oauth4webapi",
    ]);
    const sdkRtl = await size("bench/_sdk_rtl_browser.ts", "sdk-rtl.min.js");
    const figures = {
      page,
      own,
      sdkRtl,
      ratio: page.gzip / sdkRtl.gzip,
      command,
    };
    const row = (name: string, f: Size) =>
      say(
        `  ${name.padEnd(48)} ${String(f.minified).padStart(6)} B min  ${
          String(f.gzip).padStart(6)
        } B min+gz`,
      );
    row("example page's script (examples/browser/app.ts)", page);
    row("… with oauth4webapi external (own code only)", own);
    row("@looker/sdk-rtl OAuthSession + BrowserTransport", sdkRtl);
    say(`  ratio (min+gz): ${figures.ratio.toFixed(2)}×`);
    return figures;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

import { describe, expect, it } from "vitest";
import { renderMarkdown, sanitizeMatrixHtml } from "./format.js";

describe("renderMarkdown", () => {
  it("renders emphasis, code and links to the Matrix HTML subset", () => {
    expect(renderMarkdown("**bold** and `code`")).toBe("<p><strong>bold</strong> and <code>code</code></p>");
    expect(renderMarkdown("[site](https://example.org)")).toBe('<p><a href="https://example.org" target="_blank">site</a></p>');
  });

  it("turns single newlines into line breaks, as chat clients do", () => {
    expect(renderMarkdown("one\ntwo")).toBe("<p>one<br />\ntwo</p>");
  });

  it("removes scripts, event handlers, styles and javascript: links", () => {
    const html = renderMarkdown('hi <script>alert(1)</script><img src="x" onerror="alert(2)"><a href="javascript:alert(3)">x</a><b style="color:red">b</b>');
    expect(html).not.toMatch(/script|onerror|javascript|style/);
    expect(html).toContain("<b>b</b>");
  });

  it("keeps only mxc images and #rrggbb colours", () => {
    expect(sanitizeMatrixHtml('<img src="mxc://hs/abc" alt="a"><img src="https://evil/x.png"><img src="x">')).toBe('<img src="mxc://hs/abc" alt="a" />');
    expect(sanitizeMatrixHtml('<font color="#ff0000">r</font><font color="red;x">y</font>')).toBe('<font color="#ff0000">r</font><font>y</font>');
  });

  it("keeps language classes on code blocks and drops other classes", () => {
    expect(renderMarkdown("```js\nx()\n```")).toBe('<pre><code class="language-js">x()\n</code></pre>');
    expect(sanitizeMatrixHtml('<code class="evil">x</code>')).toBe("<code>x</code>");
  });

  it("drops mx-reply fallbacks a caller might still include", () => {
    expect(sanitizeMatrixHtml("<mx-reply><blockquote>old</blockquote></mx-reply>new")).toBe("new");
  });
});

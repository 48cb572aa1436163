// Markdown and HTML for Matrix messages: what the host puts in `formatted_body`.
// Everything that leaves through here is sanitised to the tags and attributes the Matrix spec
// lists as safe for clients (client-server API, "m.room.message msgtypes", HTML subset), so a
// plugin relaying text from users or remote servers cannot inject scripts, styles or forms.
import { createRequire } from "node:module";
import type MarkdownIt from "markdown-it";
import type sanitizeHtml from "sanitize-html";

// markdown-it and sanitize-html (with htmlparser2, postcss) cost the daemon about 4 MB of RSS
// at boot, and many hosts never send formatted text: they load on the first call, synchronously
// (both ship CommonJS), so the functions below keep their synchronous signatures.
const load = createRequire(import.meta.url);
type MarkdownRenderer = ReturnType<typeof MarkdownIt>;
let markdown: MarkdownRenderer | null = null;
let sanitizer: typeof sanitizeHtml | null = null;

function markdownRenderer(): MarkdownRenderer {
  markdown ??= new (load("markdown-it") as typeof MarkdownIt)({
    // Raw HTML in markdown is allowed through the renderer and then sanitised like everything else.
    html: true,
    linkify: true,
    // Chat clients (Element) render a single newline as a line break.
    breaks: true,
  });
  return markdown;
}

/** The Matrix spec's recommended HTML subset (v1.13, `m.room.message` formatting). */
const MATRIX_TAGS = [
  "font", "del", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "p", "a", "ul", "ol", "sup", "sub",
  "li", "b", "i", "u", "strong", "em", "s", "code", "hr", "br", "div", "table", "thead", "tbody", "tr",
  "th", "td", "caption", "pre", "span", "img", "details", "summary",
];

const COLOUR = /^#[0-9a-fA-F]{6}$/;

const SANITIZE_OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: MATRIX_TAGS,
  allowedAttributes: {
    font: ["data-mx-bg-color", "data-mx-color", "color"],
    span: ["data-mx-bg-color", "data-mx-color", "data-mx-spoiler", "data-mx-maths"],
    div: ["data-mx-maths"],
    a: ["name", "target", "href"],
    img: ["width", "height", "alt", "title", "src"],
    ol: ["start"],
    code: ["class"],
  },
  allowedSchemes: ["https", "http", "ftp", "mailto", "magnet"],
  // Clients only load images from the homeserver's media repository.
  allowedSchemesByTag: { img: ["mxc"] },
  allowProtocolRelative: false,
  allowedClasses: { code: [/^language-[\w-]+$/] },
  // Dropped entirely, content included: their text is never meant to be shown.
  nonTextTags: ["style", "script", "textarea", "option", "noscript", "mx-reply", "head", "title"],
  transformTags: {
    // Links open outside the client, as the spec recommends.
    a: (tagName, attribs) => ({ tagName, attribs: attribs.href ? { ...attribs, target: "_blank" } : attribs }),
  },
  // Relative URLs pass the scheme check; an image must name an mxc:// URI.
  exclusiveFilter: (frame) => frame.tag === "img" && !/^mxc:\/\//i.test(frame.attribs.src ?? ""),
  allowedStyles: {},
};

/** Sanitise caller-built HTML to the Matrix HTML subset. */
export function sanitizeMatrixHtml(html: string): string {
  sanitizer ??= load("sanitize-html") as typeof sanitizeHtml;
  const clean = sanitizer(html, SANITIZE_OPTIONS);
  // sanitize-html has no per-attribute value filter; strip colour attributes that are not #rrggbb.
  return clean.replace(/ (data-mx-bg-color|data-mx-color|color)="([^"]*)"/g, (whole, _name: string, value: string) =>
    COLOUR.test(value) ? whole : "",
  );
}

/** Render markdown to sanitised Matrix HTML (no trailing newline). */
export function renderMarkdown(source: string): string {
  return sanitizeMatrixHtml(markdownRenderer().render(source)).trimEnd();
}

/** HTML-escape plain text (for building small HTML fragments around untrusted strings). */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

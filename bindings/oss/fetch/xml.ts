/**
 * A small reader for the XML OSS answers with (errors, listings, multipart results): elements, text and the
 * five predefined entities plus numeric character references. No DOMParser: Workers and Deno have none.
 *
 * Deliberately not here: attributes (OSS bodies carry none that matter), namespaces, DTDs, CDATA beyond
 * passing its text through, writing XML.
 * @module
 */

/** One element: its name, its text (concatenated, entities decoded) and its child elements in order. */
export interface XmlElement {
  readonly name: string;
  text: string;
  readonly children: XmlElement[];
}

/**
 * Parses an XML document and returns its root element.
 * @throws {SyntaxError} when the text is not well-formed enough to read (unclosed or mismatched tags, no root)
 * @example
 *   const root = parseXml('<Error><Code>NoSuchKey</Code></Error>');
 *   childText(root, 'Code'); // 'NoSuchKey'
 */
export function parseXml(xml: string): XmlElement {
  const stack: XmlElement[] = [{ name: '#document', text: '', children: [] }];
  const tag = /<(\/?)([A-Za-z_][\w.:-]*)[^>]*?(\/?)>|<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!\[CDATA\[([\s\S]*?)\]\]>|<![^>]*>/g;
  let last = 0;
  for (let m = tag.exec(xml); m !== null; m = tag.exec(xml)) {
    const top = stack[stack.length - 1];
    top.text += decodeEntities(xml.slice(last, m.index));
    last = tag.lastIndex;
    if (m[4] !== undefined) {
      top.text += m[4];
    } else if (m[2] === undefined) {
      // declaration, comment or doctype
    } else if (m[1] === '/') {
      if (top.name !== m[2]) throw new SyntaxError(`XML: </${m[2]}> closes <${top.name}>`);
      stack.pop();
    } else {
      const element: XmlElement = { name: m[2], text: '', children: [] };
      top.children.push(element);
      if (m[3] !== '/') stack.push(element);
    }
  }
  if (stack.length !== 1) throw new SyntaxError(`XML: <${stack[stack.length - 1].name}> is never closed`);
  const root = stack[0].children[0];
  if (root === undefined) throw new SyntaxError('XML: no root element');
  return root;
}

/** The first child called `name`, if any. */
export function child(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}

/** Every child called `name`, in order. */
export function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => c.name === name);
}

/** The text of the first child called `name`, or `undefined` when there is none. */
export function childText(element: XmlElement, name: string): string | undefined {
  return child(element, name)?.text;
}

/** Escapes text for an XML element body (the multipart Complete request). */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED[ref] ?? whole;
  });
}

/**
 * Reading request bodies as bytes, and multipart/form-data (RFC 7578) as the `openai` SDK sends
 * it for POST /v1/files: parts separated by `--boundary` lines, each with its own headers.
 */
import type { IncomingMessage } from 'node:http';

interface FormPart {
  name: string;
  filename?: string;
  data: Buffer;
}

/** The whole body; a body over `limit` bytes destroys the request (its promise rejects). */
export function readBytes(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) req.destroy(new Error('request body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The boundary of a `multipart/form-data; boundary=...` content type, else undefined. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  const m = /^\s*multipart\/form-data\s*;(?:.*;)?\s*boundary=(?:"([^"]+)"|([^\s;]+))/i.exec(contentType ?? '');
  return m?.[1] ?? m?.[2];
}

function dispositionParam(headers: string, key: string): string | undefined {
  const line = headers.split('\r\n').find((h) => /^content-disposition\s*:/i.test(h));
  if (line === undefined) return undefined;
  return new RegExp(`;\\s*${key}="([^"]*)"`, 'i').exec(line)?.[1];
}

/** The parts of a multipart body; undefined when it is not well formed. */
export function parseMultipart(body: Buffer, boundary: string): FormPart[] | undefined {
  const delimiter = Buffer.from(`--${boundary}`);
  const separator = Buffer.from(`\r\n--${boundary}`);
  const parts: FormPart[] = [];
  let pos = body.indexOf(delimiter);
  if (pos < 0) return undefined;
  for (;;) {
    pos += delimiter.length;
    // `--boundary--` closes the body.
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return parts;
    const lineEnd = body.indexOf('\r\n', pos);
    if (lineEnd < 0) return undefined;
    const headEnd = body.indexOf('\r\n\r\n', lineEnd);
    if (headEnd < 0) return undefined;
    const headers = body.subarray(lineEnd, headEnd).toString('utf8');
    const next = body.indexOf(separator, headEnd + 4);
    if (next < 0) return undefined;
    const name = dispositionParam(headers, 'name');
    if (name !== undefined) {
      parts.push({ name, filename: dispositionParam(headers, 'filename'), data: body.subarray(headEnd + 4, next) });
    }
    pos = next + 2;
  }
}

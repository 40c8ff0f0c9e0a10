import type { EmuResponse } from '../core';

/** The namespace every EC2 Query API response of API version 2016-11-15 carries. */
export const EC2_XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

/** Escapes text for an XML element or attribute. */
export function xmlEscape(value: string): string {
  return value.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

/** `<name>text</name>`, or nothing when the value is absent. */
export function el(name: string, value: string | number | boolean | undefined): string {
  return value === undefined ? '' : `<${name}>${xmlEscape(String(value))}</${name}>`;
}

/** An EC2 list: `<name><item>..</item>...</name>`. */
export function list(name: string, items: readonly string[]): string {
  return `<${name}>${items.map((i) => `<item>${i}</item>`).join('')}</${name}>`;
}

const XML_HEADERS = { 'content-type': 'text/xml;charset=UTF-8' };

/** A successful EC2 answer: `<ActionResponse xmlns=..><requestId>..</requestId>...</ActionResponse>`. */
export function okResponse(action: string, requestId: string, inner: string): EmuResponse {
  return {
    status: 200,
    headers: { ...XML_HEADERS, 'x-amzn-requestid': requestId },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${EC2_XMLNS}">${el('requestId', requestId)}${inner}</${action}Response>`,
  };
}

/** An EC2 error in its documented shape (EC2 API Reference, "Error codes": example error response). */
export function errorResponse(status: number, code: string, message: string, requestId: string, headers: Record<string, string> = {}): EmuResponse {
  return {
    status,
    headers: { ...XML_HEADERS, 'x-amzn-requestid': requestId, ...headers },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>${el('Code', code)}${el('Message', message)}</Error></Errors>${el('RequestID', requestId)}</Response>`,
  };
}

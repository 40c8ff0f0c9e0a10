import { request, type ClientRequest, type IncomingMessage } from 'node:http';

/** One Server-Sent Events frame as a test reads it: a comment (`: ping`), or an event with one line of JSON data. */
export interface SseFrame {
  /** The text of a comment frame, without its colon; undefined for an event. */
  readonly comment?: string;
  readonly event: string;
  readonly id?: string;
  readonly data: Record<string, unknown>;
}

/**
 * Opens a Server-Sent Events stream over a real HTTP request and hands each frame to `onFrame` as
 * it arrives, whatever pieces the socket delivers it in. `onResponse` sees the response first (its
 * status and headers). Errors of a stream the test ends are ignored; end it with `req.destroy()`.
 */
export function openEventStream(
  url: string, headers: Record<string, string>, onFrame: (frame: SseFrame) => void, onResponse?: (res: IncomingMessage) => void,
): ClientRequest {
  const req = request(url, { headers });
  req.on('response', (res) => {
    onResponse?.(res);
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (frame.startsWith(':')) {
          onFrame({ comment: frame.slice(1).trim(), event: '', data: {} });
          continue;
        }
        onFrame({
          event: /^event: (.+)$/m.exec(frame)?.[1] ?? '', id: /^id: (.+)$/m.exec(frame)?.[1],
          data: JSON.parse(/^data: (.+)$/m.exec(frame)?.[1] ?? '{}') as Record<string, unknown>,
        });
      }
    });
    res.on('error', () => undefined);
  });
  req.on('error', () => undefined);
  req.end();
  return req;
}

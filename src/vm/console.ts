// The guest's serial console: every byte to a log file, the last lines kept for error
// reports, and kernel reports (panic, Oops, BUG, hung task...) raised as they appear.
import { EventEmitter } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { classifySplat, type Splat } from './splats.js';

export class ConsoleCapture extends EventEmitter {
  private readonly file: WriteStream;
  private readonly tail: string[] = [];
  private partial = '';
  private chunks?: Buffer[];
  readonly splats: Splat[] = [];

  constructor(
    readonly logPath: string,
    private readonly keepLines = 200,
  ) {
    super();
    this.file = createWriteStream(logPath, { flags: 'a' });
  }

  write(chunk: Buffer): void {
    // QEMU's stdout may still deliver bytes after the machine closed its log.
    if (!this.file.writableEnded) this.file.write(chunk);
    this.chunks?.push(chunk);
    const text = this.partial + chunk.toString('utf8').replace(/\r/g, '');
    const lines = text.split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) this.line(line);
  }

  private line(line: string): void {
    this.tail.push(line);
    if (this.tail.length > this.keepLines) this.tail.shift();
    this.emit('line', line);
    const kind = classifySplat(line);
    if (kind) {
      const s: Splat = { kind, line, at: Date.now() };
      this.splats.push(s);
      this.emit('splat', s);
    }
  }

  /** Keeps every byte from now on, for transcript(). */
  recordTranscript(): void {
    this.chunks = [];
  }

  /** Everything written since recordTranscript(); the recording stops. */
  transcript(): string {
    const text = Buffer.concat(this.chunks ?? []).toString('utf8'); // whole, so no character is split
    this.chunks = undefined;
    return text;
  }

  tailText(lines = 60): string {
    const all = this.partial ? [...this.tail, this.partial] : this.tail;
    return all.slice(-lines).join('\n');
  }

  /** Ends the log file once its writes are done; again: nothing more. */
  close(): Promise<void> {
    if (this.file.writableEnded) return Promise.resolve();
    return new Promise((r) => this.file.end(r));
  }
}

// QMP, QEMU's JSON machine protocol, on a unix socket: the greeting, capability
// negotiation, commands with ids, and asynchronous events (DEVICE_DELETED, ...).
import { HarnessError } from '../util/errors.js';
import { withDeadline } from '../util/deadline.js';
import { JsonLinesSocket } from './json-lines-socket.js';

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

export class QmpClient extends JsonLinesSocket {
  private nextId = 1;
  private greeted?: (v: unknown) => void;

  async open(deadlineMs = 10_000): Promise<void> {
    const greeting = new Promise((r) => (this.greeted = r));
    await this.connect(deadlineMs, 'QMP');
    await withDeadline(greeting, deadlineMs, 'the QMP greeting');
    await this.execute('qmp_capabilities');
  }

  protected onMessage(msg: unknown): void {
    const m = msg as { QMP?: unknown; id?: string; return?: unknown; error?: { class: string; desc: string }; event?: string };
    if (m.QMP) {
      this.greeted?.(m.QMP);
      return;
    }
    if (m.event) {
      this.emit('event', m as QmpEvent);
      return;
    }
    if (m.id !== undefined) {
      if (m.error) this.settle(m.id, new HarnessError(`QMP ${m.error.class}: ${m.error.desc}`));
      else this.settle(m.id, undefined, m.return);
    }
  }

  execute(command: string, args?: Record<string, unknown>, deadlineMs = 10_000): Promise<unknown> {
    const id = `q${this.nextId++}`;
    return this.request(id, { execute: command, arguments: args, id }, deadlineMs, `QMP ${command}`);
  }

  /** Resolves with the first event of that name for which match() holds. */
  waitEvent(name: string, match: (e: QmpEvent) => boolean, deadlineMs: number): Promise<QmpEvent> {
    return withDeadline(
      new Promise<QmpEvent>((resolve) => {
        const on = (e: QmpEvent): void => {
          if (e.event === name && match(e)) {
            this.off('event', on);
            resolve(e);
          }
        };
        this.on('event', on);
      }),
      deadlineMs,
      `QMP event ${name}`,
    );
  }
}

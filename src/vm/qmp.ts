// QMP, QEMU's JSON machine protocol, on a unix socket: the greeting, capability
// negotiation, commands with ids, and asynchronous events (DEVICE_DELETED, ...).
import { HarnessError } from '../util/errors.js';
import { withDeadline } from '../util/deadline.js';
import { QMP_COMMAND_MS, QMP_OPEN_MS } from '../util/timeouts.js';
import { JsonLinesSocket } from './json-lines-socket.js';

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

export class QmpClient extends JsonLinesSocket {
  private nextId = 1;
  private greeted?: (v: unknown) => void;

  async open(deadlineMs = QMP_OPEN_MS): Promise<void> {
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
      this.emit('event', m);
      return;
    }
    if (m.id !== undefined) {
      if (m.error) this.settle(m.id, new HarnessError(`QMP ${m.error.class}: ${m.error.desc}`));
      else this.settle(m.id, undefined, m.return);
    }
  }

  execute(command: string, args?: Record<string, unknown>, deadlineMs = QMP_COMMAND_MS): Promise<unknown> {
    const id = `q${this.nextId++}`;
    return this.request(id, { execute: command, arguments: args, id }, deadlineMs, `QMP ${command}`);
  }

  /**
   * Resolves with the first event of that name for which match() holds. Rejects after
   * deadlineMs, when the signal aborts, or when the QMP channel closes (QEMU died); the
   * listeners and the timer go with it.
   */
  waitEvent(name: string, match: (e: QmpEvent) => boolean, deadlineMs: number, signal?: AbortSignal): Promise<QmpEvent> {
    let onEvent: ((e: QmpEvent) => void) | undefined;
    let onClosed: ((err: Error) => void) | undefined;
    const seen = new Promise<QmpEvent>((resolve, reject) => {
      onEvent = (e) => {
        if (e.event === name && match(e)) resolve(e);
      };
      onClosed = (err) => reject(new HarnessError(`QMP event ${name}: ${err.message}`));
      this.on('event', onEvent);
      this.once('closed', onClosed);
    });
    return withDeadline(seen, deadlineMs, `QMP event ${name}`, signal).finally(() => {
      if (onEvent) this.off('event', onEvent);
      if (onClosed) this.off('closed', onClosed);
    });
  }

  /**
   * Runs a command and waits for the event it causes. The wait starts first, so an
   * event that overtakes the command's answer is not missed; a failed command ends the
   * wait at once and rejects with the command's own error, leaving no timer behind.
   */
  async executeAndWait(
    command: string,
    args: Record<string, unknown>,
    event: { name: string; match: (e: QmpEvent) => boolean; deadlineMs: number },
  ): Promise<QmpEvent> {
    const cancel = new AbortController();
    const seen = this.waitEvent(event.name, event.match, event.deadlineMs, cancel.signal);
    // Handled here so that a rejection while the command is in flight is never "unhandled";
    // `seen` still rejects for the await below.
    seen.catch(() => undefined);
    try {
      await this.execute(command, args);
    } catch (err) {
      cancel.abort(err);
      await seen.catch(() => undefined); // its listeners and timer are gone once it settles
      throw err;
    }
    return await seen;
  }
}

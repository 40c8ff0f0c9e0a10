import type { FaultSettings } from './faults';
import type { CallStats } from './server';

/** A client for an emulator's admin API, for tests, benchmarks and the CLI. */
export class EmulatorAdmin {
  constructor(private readonly baseUrl: string) {}

  /** Merges fault settings. */
  async setFaults(patch: Partial<FaultSettings>): Promise<FaultSettings> {
    return this.request<FaultSettings>('PATCH', '/_emulator/faults', patch);
  }

  /** Replaces all fault settings. */
  async replaceFaults(settings: Partial<FaultSettings>): Promise<FaultSettings> {
    return this.request<FaultSettings>('PUT', '/_emulator/faults', settings);
  }

  /** Clears faults, instances and stats. */
  async reset(): Promise<void> {
    await this.request('POST', '/_emulator/reset');
  }

  /** Every instance the emulator holds (terminated ones while still visible). */
  async instances(): Promise<Array<{ id: string; region: string; type: string; state: string; tags: Record<string, string>; publicIp?: string }>> {
    return this.request('GET', '/_emulator/instances');
  }

  /** Calls by operation and outcome. */
  async stats(): Promise<CallStats> {
    return this.request('GET', '/_emulator/stats');
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(this.baseUrl + path, {
      method, headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`emulator admin ${method} ${path} failed with ${res.status}: ${text}`);
    return JSON.parse(text) as T;
  }
}

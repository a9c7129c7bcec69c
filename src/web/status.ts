// How a status looks: an icon, a label and a tone (the colour), so that no status is told by colour
// alone. The one table: the pages render it, and it is written into each page as JSON data for the
// client script that updates badges live.

export type Tone = 'ok' | 'bad' | 'warn' | 'busy' | 'idle';

export interface StatusLook {
  readonly icon: string;
  readonly label: string;
  readonly tone: Tone;
}

export const STATUS_LOOKS: Readonly<Record<string, StatusLook>> = {
  // Workflows
  ACTIVE: { icon: '●', label: 'Active', tone: 'ok' },
  PAUSED: { icon: '‖', label: 'Paused', tone: 'warn' },
  TERMINATED: { icon: '■', label: 'Terminated', tone: 'bad' },
  // Jobs and builds
  NONE: { icon: '–', label: 'No build', tone: 'idle' },
  PENDING: { icon: '◌', label: 'Pending', tone: 'idle' },
  QUEUED: { icon: '⋯', label: 'Queued', tone: 'busy' },
  STARTED: { icon: '▶', label: 'Building', tone: 'busy' },
  RUNNING: { icon: '▶', label: 'Running', tone: 'busy' },
  COMPLETED: { icon: '✓', label: 'Completed', tone: 'ok' },
  FAILED: { icon: '✗', label: 'Failed', tone: 'bad' },
  CANCELED: { icon: '⊘', label: 'Canceled', tone: 'warn' },
};

export function statusLook(status: string): StatusLook {
  return STATUS_LOOKS[status] ?? { icon: '?', label: status, tone: 'idle' };
}

declare module 'pino-roll' {
  import type { SonicBoom } from 'sonic-boom';
  interface PinoRollOptions {
    file: string;
    size?: string | number;
    frequency?: string | number;
    extension?: string;
    limit?: { count?: number; removeOtherLogFiles?: boolean };
    symlink?: boolean;
    mkdir?: boolean;
    sync?: boolean;
    minLength?: number;
    /** Passed on to sonic-boom. */
    contentMode?: 'utf8' | 'buffer';
  }
  export default function roll(options: PinoRollOptions): Promise<SonicBoom>;
}

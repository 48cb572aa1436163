// Loading data and running actions, each with the state a page shows: working, done, or the error.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/** Loads with `fn` now, whenever `deps` change, on reload(), and every `pollMs` if given. */
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[], pollMs?: number): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  useEffect(() => {
    let live = true;
    setLoading(true);
    const run = () =>
      fnRef.current().then(
        (value) => {
          if (!live) return;
          setData(value);
          setError(null);
          setLoading(false);
        },
        (err: Error) => {
          if (!live) return;
          setError(err.message);
          setLoading(false);
        },
      );
    void run();
    const timer = pollMs ? setInterval(run, pollMs) : undefined;
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

export interface ActionState {
  busy: boolean;
  /** What the last action did, or why it failed. */
  message: string | null;
  failed: boolean;
}

/** Runs one async action at a time; its result or error becomes the message shown next to it. */
export function useAction(): [ActionState, (what: string, fn: () => Promise<string>) => Promise<boolean>] {
  const [state, setState] = useState<ActionState>({ busy: false, message: null, failed: false });
  const run = useCallback(async (what: string, fn: () => Promise<string>) => {
    setState({ busy: true, message: `${what}…`, failed: false });
    try {
      const done = await fn();
      setState({ busy: false, message: done, failed: false });
      return true;
    } catch (err) {
      setState({ busy: false, message: (err as Error).message, failed: true });
      return false;
    }
  }, []);
  return [state, run];
}

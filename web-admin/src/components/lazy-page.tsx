// A page module loaded when first shown, so the first load carries only the login and dashboard.
import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";
import { Loading } from "./ui.js";

export function LazyPage<P extends object>({ load, props }: { load: () => Promise<ComponentType<P>>; props: P }) {
  const [Page, setPage] = useState<ComponentType<P> | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    load().then(
      (page) => live && setPage(() => page),
      () => live && setError("This page could not be loaded; the daemon may have been updated. Reload the page."),
    );
    return () => {
      live = false;
    };
  }, [load]);
  if (error) return <p class="status error" role="alert">{error}</p>;
  return Page ? <Page {...props} /> : <Loading what="the page" />;
}

// Client-side routes under the page's base (the host's ui_base_path): history.pushState and a
// listener, small enough that a router library would only add weight to the first load.
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";

/** The base path the host put in <base href>, ending in "/". */
export const basePath = new URL(document.baseURI).pathname.replace(/\/?$/, "/");

const CHANGE = "botyard:navigate";

/** The route under the base, without leading or trailing slashes ("", "instances/echo1"). */
export function currentRoute(): string {
  const path = location.pathname.startsWith(basePath) ? location.pathname.slice(basePath.length) : "";
  return decodeURIComponent(path).replace(/\/+$/, "");
}

export function navigate(to: string, replace = false): void {
  const url = basePath + to;
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  window.dispatchEvent(new Event(CHANGE));
}

export function useRoute(): string {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const update = () => setRoute(currentRoute());
    window.addEventListener("popstate", update);
    window.addEventListener(CHANGE, update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener(CHANGE, update);
    };
  }, []);
  return route;
}

/** Route path segments for a link ("instances", id) joined and encoded. */
export function routeOf(...parts: string[]): string {
  return parts.map(encodeURIComponent).join("/");
}

interface LinkProps {
  to: string;
  children: ComponentChildren;
  "aria-current"?: "page";
  class?: string;
}

export function Link({ to, children, ...rest }: LinkProps) {
  const onClick = (e: MouseEvent) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <a href={basePath + to} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}

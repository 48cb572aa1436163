// The shell: the login gate (an expired token comes back here with the reason), the navigation
// and the page for the current route.
import { useEffect, useState } from "preact/hooks";
import { forgetToken, savedToken, setExpiryListener } from "./api/session.js";
import { LazyPage } from "./components/lazy-page.js";
import { Dashboard } from "./pages/dashboard.js";
import { Login } from "./pages/login.js";
import { Link, navigate, useRoute } from "./router.js";

const loadPlugins = () => import("./pages/plugins.js").then((m) => m.PluginsPage);
const loadInstances = () => import("./pages/instances.js").then((m) => m.InstancesPage);
const loadInstance = () => import("./pages/instance.js").then((m) => m.InstancePage);
const loadClients = () => import("./pages/clients.js").then((m) => m.ClientsPage);
const loadLogs = () => import("./pages/logs.js").then((m) => m.LogsPage);

const NAV: [route: string, label: string][] = [
  ["", "Dashboard"],
  ["plugins", "Plugins"],
  ["instances", "Instances"],
  ["clients", "Bot accounts"],
  ["logs", "Logs"],
];

function Page({ route }: { route: string }) {
  const [section = "", id] = route.split("/");
  switch (section) {
    case "":
      return <Dashboard />;
    case "plugins":
      return <LazyPage load={loadPlugins} props={{}} />;
    case "instances":
      return id ? <LazyPage load={loadInstance} props={{ id }} /> : <LazyPage load={loadInstances} props={{}} />;
    case "clients":
      return <LazyPage load={loadClients} props={{}} />;
    case "logs":
      return <LazyPage load={loadLogs} props={{}} />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>
            There is no page here. <Link to="">Go to the dashboard</Link>.
          </p>
        </section>
      );
  }
}

export function App() {
  const route = useRoute();
  const [loggedIn, setLoggedIn] = useState(savedToken() !== null);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    setExpiryListener((message) => {
      setNotice(message);
      setLoggedIn(false);
    });
  }, []);

  // Moving the focus to the new page's heading tells keyboard and screen reader users it changed.
  useEffect(() => {
    document.querySelector<HTMLElement>("main h1")?.focus();
  }, [route, loggedIn]);

  if (!loggedIn) {
    return (
      <main id="main" class="login-main">
        <Login
          notice={notice}
          onLoggedIn={() => {
            setNotice(null);
            setLoggedIn(true);
          }}
        />
      </main>
    );
  }
  const section = route.split("/")[0] ?? "";
  const logOut = () => {
    forgetToken();
    setNotice("You logged out.");
    setLoggedIn(false);
    navigate("", true);
  };
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">botyard</span>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([to, label]) => (
              <li key={to}>
                <Link to={to} aria-current={section === to ? "page" : undefined}>
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" class="secondary" onClick={logOut}>
          Log out
        </button>
      </header>
      <main id="main">
        <Page route={route} />
      </main>
    </>
  );
}

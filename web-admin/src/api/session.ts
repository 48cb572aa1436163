// The admin token in localStorage, and who to tell when it stops working (expired or revoked):
// the app shows the login page with the reason.
const KEY = "botyard.token";

type ExpiryListener = (message: string) => void;
let onExpired: ExpiryListener = () => undefined;

export function savedToken(): string | null {
  return localStorage.getItem(KEY);
}

export function saveToken(token: string): void {
  localStorage.setItem(KEY, token);
}

export function forgetToken(): void {
  localStorage.removeItem(KEY);
}

export function setExpiryListener(listener: ExpiryListener): void {
  onExpired = listener;
}

export function tokenExpired(message: string): void {
  forgetToken();
  onExpired(message);
}

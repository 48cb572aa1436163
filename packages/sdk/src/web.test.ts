import { describe, expect, it } from "vitest";
import type { WebRequest } from "./contract.js";
import { WebError, WebRouter, jsonResponse, textResponse } from "./web.js";

function request(method: string, path: string, body = "", query = ""): WebRequest {
  return { method, path, query, headers: {}, body: new TextEncoder().encode(body) };
}

describe("WebRouter", () => {
  const errors: string[] = [];
  const onError = (_err: unknown, route: string) => void errors.push(route);

  function router(): WebRouter {
    const r = new WebRouter();
    r.get("/count", () => jsonResponse({ count: 3 }));
    r.get("/hook/:name", (req) => textResponse(`hook ${req.params["name"]} ${req.searchParams.get("x") ?? ""}`));
    r.post("/hook/:name", (req) => jsonResponse({ name: req.params["name"], got: req.json<{ a: number }>().a }, 201));
    r.get("/files/*", (req) => textResponse(req.params["*"] ?? ""));
    r.get("/boom", () => {
      throw new Error("handler bug");
    });
    r.get("/teapot", () => {
      throw new WebError(418, "short and stout");
    });
    return r;
  }

  it("routes by method and path with params", async () => {
    const r = router();
    expect(await r.handle(request("GET", "/count"), onError)).toEqual(jsonResponse({ count: 3 }));
    expect((await r.handle(request("GET", "/hook/My%20Hook", "", "x=1"), onError)).body).toBe("hook My Hook 1");
    const posted = await r.handle(request("POST", "/hook/gh", '{"a":5}'), onError);
    expect(posted.status).toBe(201);
    expect(JSON.parse(String(posted.body))).toEqual({ name: "gh", got: 5 });
    expect((await r.handle(request("GET", "/files/a/b%2Fc.txt"), onError)).body).toBe("a/b/c.txt");
    expect((await r.handle(request("GET", "/count/"), onError)).status).toBe(200);
  });

  it("answers 404 for unknown paths and 405 with Allow for other methods", async () => {
    const r = router();
    expect((await r.handle(request("GET", "/nope"), onError)).status).toBe(404);
    expect((await r.handle(request("GET", "/hook"), onError)).status).toBe(404);
    const wrong = await r.handle(request("DELETE", "/hook/x"), onError);
    expect(wrong.status).toBe(405);
    expect(wrong.headers?.["allow"]).toBe("GET, POST");
  });

  it("serves HEAD from the GET route without a body", async () => {
    const head = await router().handle(request("HEAD", "/count"), onError);
    expect(head.status).toBe(200);
    expect(head.body).toBeUndefined();
  });

  it("turns a throw into a 500 reported through onError, and a WebError into its status", async () => {
    const r = router();
    errors.length = 0;
    expect((await r.handle(request("GET", "/boom"), onError)).status).toBe(500);
    expect(errors).toEqual(["GET /boom"]);
    const teapot = await r.handle(request("GET", "/teapot"), onError);
    expect(teapot.status).toBe(418);
    expect(JSON.parse(String(teapot.body))).toEqual({ error: "short and stout" });
    expect((await r.handle(request("POST", "/hook/x", "not json"), onError)).status).toBe(400);
    expect(errors).toEqual(["GET /boom"]);
  });

  it("refuses malformed patterns", () => {
    const r = new WebRouter();
    expect(() => r.get("count", () => jsonResponse({}))).toThrow(/must start with/);
    expect(() => r.get("/a/*/b", () => jsonResponse({}))).toThrow(/last segment/);
  });
});

// The example botyard plugin: `!ping` answers with how long the message took to reach the bot,
// `!echo <text>` repeats the text as a notice that pings nobody, `!count` tells how many pings
// this instance has answered (kept in its database), and GET <webapp>/count returns that number
// as JSON.

import { Plugin, UpgradeTable, arg, jsonResponse, type MessageContext } from "@botyard/sdk";

export interface EchoConfig {
  /** Put before every !echo answer. */
  prefix: string;
  /** Longest text !echo repeats. */
  max_length: number;
}

export class EchoPlugin extends Plugin<EchoConfig> {
  override dbMigrations(): UpgradeTable {
    return new UpgradeTable().register("counters", (db) => {
      db.exec("CREATE TABLE counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
    });
  }

  override setup(): void {
    this.command({
      name: "ping",
      help: "Answer with the time since the message was sent",
      handler: (ctx) => this.ping(ctx),
    });
    this.command({
      name: "echo",
      help: "Repeat the text",
      args: [arg.rest("text")],
      handler: (ctx, args) => this.echo(ctx, args.text),
    });
    this.command({
      name: "count",
      help: "How many pings this bot has answered",
      handler: (ctx) => {
        const n = this.pings();
        return ctx.reply(`I have answered ${n} ping${n === 1 ? "" : "s"}.`, { markdown: false });
      },
    });
    this.web.get("/count", () => jsonResponse({ pings: this.pings() }));
  }

  async ping(ctx: MessageContext): Promise<void> {
    const elapsed = Math.max(0, Date.now() - ctx.evt.origin_server_ts);
    this.db
      .prepare("INSERT INTO counter (name, value) VALUES ('pings', 1) ON CONFLICT (name) DO UPDATE SET value = value + 1")
      .run();
    await ctx.reply(`Pong! (${elapsed} ms since you sent it)`, { markdown: false });
  }

  async echo(ctx: MessageContext, text: string): Promise<void> {
    const limit = this.config.max_length;
    const cut = text.length > limit ? `${text.slice(0, limit)}…` : text;
    // Plain text with the SDK's default `m.mentions: {}`: "@room" or a user id in the text pings nobody.
    await this.client.sendNotice(ctx.roomId, `${this.config.prefix}${cut}`);
  }

  pings(): number {
    const row = this.db.prepare("SELECT value FROM counter WHERE name = 'pings'").get() as { value: number } | undefined;
    return row?.value ?? 0;
  }
}

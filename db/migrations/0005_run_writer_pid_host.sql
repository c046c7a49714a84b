ALTER TABLE "runs" ADD COLUMN "writer_pid" integer;--> statement-breakpoint
ALTER TABLE "runs" ADD COLUMN "writer_host" text;
CREATE TABLE "environments" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "environments_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"hash" text NOT NULL,
	"cpu_model" text NOT NULL,
	"cores" integer NOT NULL,
	"ram_bytes" bigint NOT NULL,
	"gpus" jsonb NOT NULL,
	"os" text NOT NULL,
	"node_version" text NOT NULL,
	"engine_versions" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "requests" (
	"run_id" integer NOT NULL,
	"seq" integer NOT NULL,
	"state" text NOT NULL,
	"prompt_index" integer NOT NULL,
	"error_kind" text,
	"http_status" integer,
	"message" text,
	"scheduled_at_ms" double precision NOT NULL,
	"started_at_ms" double precision NOT NULL,
	"ttft_ms" double precision,
	"e2e_ms" double precision,
	"chunks" integer,
	"prompt_tokens" integer,
	"output_tokens" integer,
	"tokens_source" text,
	"server_output_tokens" integer,
	"tokenizer_output_tokens" integer,
	"finish_reason" text,
	"server_timings" jsonb,
	"chunk_gaps_ms" "bytea",
	CONSTRAINT "requests_pkey" PRIMARY KEY("run_id","seq"),
	CONSTRAINT "requests_state_check" CHECK ("requests"."state" in ('ok', 'error'))
);
--> statement-breakpoint
CREATE TABLE "run_metrics" (
	"run_id" integer NOT NULL,
	"name" text NOT NULL,
	"value" double precision NOT NULL,
	"unit" text NOT NULL,
	"direction" text NOT NULL,
	"n" integer NOT NULL,
	CONSTRAINT "run_metrics_pkey" PRIMARY KEY("run_id","name")
);
--> statement-breakpoint
CREATE TABLE "runs" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "runs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"invocation_id" text,
	"scenario_name" text NOT NULL,
	"scenario_hash" text NOT NULL,
	"scenario" jsonb NOT NULL,
	"target_name" text NOT NULL,
	"variant_id" integer,
	"environment_id" integer,
	"engine_kind" text NOT NULL,
	"engine_version" text,
	"engine_model" text NOT NULL,
	"engine_device" text,
	"engine_options" jsonb NOT NULL,
	"load" jsonb NOT NULL,
	"load_kind" text NOT NULL,
	"load_index" integer NOT NULL,
	"label" text,
	"fingerprint" text NOT NULL,
	"git_commit" text,
	"git_branch" text,
	"git_merge_base" text,
	"state" text NOT NULL,
	"error" text,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone,
	"heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "runs_state_check" CHECK ("runs"."state" in ('running', 'completed', 'failed', 'interrupted'))
);
--> statement-breakpoint
CREATE TABLE "variants" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "variants_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"identity_hash" text NOT NULL,
	"name" text NOT NULL,
	"family" text,
	"method" text NOT NULL,
	"format" text NOT NULL,
	"quant_label" text,
	"bits" real,
	"size_bytes" bigint,
	"sha256" text,
	"parent_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "variants_method_check" CHECK ("variants"."method" in ('base', 'quantized', 'pruned', 'distilled')),
	CONSTRAINT "variants_format_check" CHECK ("variants"."format" in ('gguf', 'onnx', 'remote'))
);
--> statement-breakpoint
ALTER TABLE "requests" ADD CONSTRAINT "requests_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run_metrics" ADD CONSTRAINT "run_metrics_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_variant_id_variants_id_fk" FOREIGN KEY ("variant_id") REFERENCES "public"."variants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_environment_id_environments_id_fk" FOREIGN KEY ("environment_id") REFERENCES "public"."environments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "variants" ADD CONSTRAINT "variants_parent_id_fkey" FOREIGN KEY ("parent_id") REFERENCES "public"."variants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "environments_hash_key" ON "environments" USING btree ("hash");--> statement-breakpoint
CREATE INDEX "runs_scenario_target_started_idx" ON "runs" USING btree ("scenario_name","target_name","started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "runs_fingerprint_started_idx" ON "runs" USING btree ("fingerprint","started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "runs_started_idx" ON "runs" USING btree ("started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "runs_running_heartbeat_idx" ON "runs" USING btree ("heartbeat_at") WHERE "runs"."state" = 'running';--> statement-breakpoint
CREATE INDEX "runs_state_started_idx" ON "runs" USING btree ("state","started_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "runs_invocation_idx" ON "runs" USING btree ("invocation_id");--> statement-breakpoint
CREATE UNIQUE INDEX "variants_identity_hash_key" ON "variants" USING btree ("identity_hash");
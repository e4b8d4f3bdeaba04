/* stockd: a ticketrush stock node. Parses flags, starts the node, waits
 * for SIGTERM or SIGINT, stops gracefully. */
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "tr_coord.h"
#include "tr_err.h"
#include "tr_event.h"
#include "tr_log.h"
#include "tr_flag.h"
#include "tr_parse.h"

#define DAY_MS (24ULL * 3600 * 1000)

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: stockd [options]\n"
	    "A ticketrush stock node: sells from a lease of stock held in "
	    "memory and\n"
	    "serves protobuf over nng (see proto/ticketrush.proto).\n"
	    "\n"
	    "  --node-id ID          node name, 1-16 of [A-Za-z0-9_-], not "
	    "'_' first\n"
	    "                        (default n1); reservation ids start "
	    "with it\n"
	    "  --listen URL          data plane (default "
	    "tcp://127.0.0.1:7001)\n"
	    "  --admin URL           admin plane (default "
	    "tcp://127.0.0.1:<data port+100>;\n"
	    "                        keep it off public interfaces)\n"
	    "  --redis HOST:PORT[,HOST:PORT...]\n"
	    "                        coordinator (default 127.0.0.1:6379); "
	    "several\n"
	    "                        addresses: the seeds of a Redis "
	    "Cluster\n"
	    "  --redis-cluster       --redis names a Redis Cluster even with "
	    "one\n"
	    "                        address\n"
	    "  --standalone          development mode without Redis: stock "
	    "from\n"
	    "                        --event, orders in memory only, NOT "
	    "durable\n"
	    "  --event ID=TOTAL[,limit=K][,hold=DUR]\n"
	    "                        standalone: an event and its stock "
	    "(repeatable)\n"
	    "  --contexts N          concurrent data requests (default 128)\n"
	    "  --batch-max N         operations per Batch message (default "
	    "256)\n"
	    "  --liveness-ttl DUR    liveness key TTL; a node cut off from "
	    "Redis for\n"
	    "                        longer stops selling (default 10s)\n"
	    "  --redis-timeout DUR   per Redis reply (default 500ms)\n"
	    "  --refill-min N        smallest grant asked for (default 8)\n"
	    "  --refill-max N        largest grant asked for (default 4096)\n"
	    "  --lease-idle DUR      give back a lease unsold for this long "
	    "(5s; 0 off)\n"
	    "  --wait-timeout DUR    how long a reservation waits for a grant "
	    "(1s)\n"
	    "  --waiters-max N       reservations waiting for a grant, per "
	    "event (4096)\n"
	    "  --sync DUR            refresh of global figures (200ms)\n"
	    "  --sweep DUR           dead-node lease reclaim sweep (1s)\n"
	    "  --coord-pipeline N    Redis calls sent per round trip (default "
	    "512)\n"
	    "  --coord-queue N       Redis calls queued at most (default "
	    "65536)\n"
	    "  --confirm-replicas N  answer a confirm OK only once N replicas "
	    "of the\n"
	    "                        Redis that ran it have the order (WAIT); "
	    "else\n"
	    "                        UNAVAILABLE, retry with the same id "
	    "(default 0)\n"
	    "  --confirm-wait DUR    how long a confirm waits for them "
	    "(100ms; at most\n"
	    "                        half of --redis-timeout)\n"
	    "  --log-level LEVEL     debug, info, warn, error (default info)\n"
	    "  -h, --help\n"
	    "DUR is a number with ms, s, m or h (e.g. 250ms, 15m).\n");
}

static int
parse_event(const char *arg, tr_event_conf *ev)
{
	char buf[256], *save = NULL, *tok, *eq;
	uint64_t v;

	memset(ev, 0, sizeof(*ev));
	ev->limit_per_user = 1;
	ev->hold_ms = 15 * 60 * 1000;
	if (strlen(arg) >= sizeof(buf))
		return -1;
	strcpy(buf, arg);
	tok = strtok_r(buf, ",", &save);
	if (tok == NULL || (eq = strchr(tok, '=')) == NULL)
		return -1;
	*eq = '\0';
	if (!tr_event_id_valid(tok) ||
	    tr_parse_u64(eq + 1, 1, TR_TOTAL_MAX, &ev->total) != 0)
		return -1;
	strcpy(ev->id, tok);
	while ((tok = strtok_r(NULL, ",", &save)) != NULL) {
		if (strncmp(tok, "limit=", 6) == 0 &&
		    tr_parse_u64(tok + 6, 1, TR_LIMIT_PER_USER_MAX, &v) == 0)
			ev->limit_per_user = (uint32_t)v;
		else if (strncmp(tok, "hold=", 5) == 0 &&
		    tr_parse_duration_ms(tok + 5, TR_HOLD_MS_MAX, &v) == 0 &&
		    v > 0)
			ev->hold_ms = v;
		else
			return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {{"node-id", 1, NULL, 'n'},
	    {"listen", 1, NULL, 'l'}, {"admin", 1, NULL, 'a'},
	    {"redis", 1, NULL, 'r'}, {"redis-cluster", 0, NULL, 'C'},
	    {"standalone", 0, NULL, 'S'}, {"event", 1, NULL, 'e'},
	    {"contexts", 1, NULL, 'c'}, {"batch-max", 1, NULL, 'b'},
	    {"liveness-ttl", 1, NULL, 'T'}, {"redis-timeout", 1, NULL, 't'},
	    {"refill-min", 1, NULL, 'm'}, {"refill-max", 1, NULL, 'M'},
	    {"lease-idle", 1, NULL, 'i'}, {"wait-timeout", 1, NULL, 'w'},
	    {"waiters-max", 1, NULL, 'W'}, {"sync", 1, NULL, 's'},
	    {"sweep", 1, NULL, 'x'}, {"log-level", 1, NULL, 'L'},
	    {"coord-pipeline", 1, NULL, 'P'}, {"coord-queue", 1, NULL, 'Q'},
	    {"confirm-replicas", 1, NULL, 'R'}, {"confirm-wait", 1, NULL, 'V'},
	    {"help", 0, NULL, 'h'}, {NULL, 0, NULL, 0}};
	static char admin_default[128];
	tr_event_conf events[64];
	tr_node_conf conf;
	tr_node *node;
	const char *why;
	sigset_t sigs;
	int opt, sig, level = TR_LOG_INFO;

	tr_flag_program("stockd");
	tr_node_conf_defaults(&conf);
	conf.events = events;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			/* Ids starting with '_' are the coordinator's own
			 * (the waitlist's offers are made by "_wl"). */
			if (!tr_node_id_valid(optarg) || optarg[0] == '_')
				tr_flag_die(
				    "--node-id (1-16 of [A-Za-z0-9_-], "
				    "not starting with '_')",
				    optarg);
			strcpy(conf.node_id, optarg);
			break;
		case 'l': conf.data_url = optarg; break;
		case 'a': conf.admin_url = optarg; break;
		case 'r':
			if (tr_coord_addrs_count(optarg) < 0)
				tr_flag_die(
				    "--redis (HOST:PORT[,HOST:PORT...], "
				    "at most 16)",
				    optarg);
			conf.redis_addrs = optarg;
			break;
		case 'C': conf.redis_cluster = true; break;
		case 'S': conf.standalone = true; break;
		case 'e':
			if (conf.event_count == 64 ||
			    parse_event(optarg, &events[conf.event_count]))
				tr_flag_die(
				    "--event (ID=TOTAL[,limit=K][,hold=DUR])",
				    optarg);
			conf.event_count++;
			break;
		case 'c':
			conf.data_contexts =
			    (int)tr_flag_u64("--contexts", optarg, 1, 4096);
			break;
		case 'b':
			conf.batch_max = (uint32_t)tr_flag_u64("--batch-max",
			    optarg, 1, 1024);
			break;
		case 'T':
			conf.liveness_ttl_ms =
			    (uint64_t)tr_flag_duration("--liveness-ttl",
			        optarg, 0, DAY_MS);
			break;
		case 't':
			conf.redis_timeout_ms =
			    (int)tr_flag_duration("--redis-timeout", optarg, 1,
			        600000);
			break;
		case 'm':
			conf.refill_min =
			    tr_flag_u64("--refill-min", optarg, 1, 1000000);
			break;
		case 'M':
			conf.refill_max =
			    tr_flag_u64("--refill-max", optarg, 1, 1000000);
			break;
		case 'i':
			conf.lease_idle_ms = tr_flag_duration("--lease-idle",
			    optarg, 0, DAY_MS);
			break;
		case 'w':
			conf.wait_timeout_ms =
			    tr_flag_duration("--wait-timeout", optarg, 1,
			        DAY_MS);
			break;
		case 'W':
			conf.waiters_max =
			    tr_flag_u64("--waiters-max", optarg, 1, 1000000);
			break;
		case 's':
			conf.sync_ms = (uint64_t)tr_flag_duration("--sync",
			    optarg, 1, DAY_MS);
			break;
		case 'x':
			conf.sweep_ms = (uint64_t)tr_flag_duration("--sweep",
			    optarg, 1, DAY_MS);
			break;
		case 'P':
			conf.coord_pipeline_max =
			    tr_flag_u64("--coord-pipeline", optarg, 1, 1024);
			break;
		case 'Q':
			conf.coord_queue_max =
			    tr_flag_u64("--coord-queue", optarg, 1, 1000000);
			break;
		case 'R':
			conf.confirm_replicas =
			    (int)tr_flag_u64("--confirm-replicas", optarg, 0,
			        TR_NODE_CONFIRM_REPLICAS_MAX);
			break;
		case 'V':
			conf.confirm_wait_ms =
			    (int)tr_flag_duration("--confirm-wait", optarg, 1,
			        60000);
			break;
		case 'L':
			if ((level = tr_log_level_parse(optarg)) < 0)
				tr_flag_die("--log-level", optarg);
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc)
		tr_flag_die("argument", argv[optind]);
	if (!conf.standalone && conf.event_count > 0)
		tr_flag_die("flags",
		    "--event is for --standalone; in redis mode "
		    "create events with ticketctl event create");
	if (conf.refill_max < conf.refill_min)
		tr_flag_die("--refill-max", "must be >= --refill-min");
	if (conf.admin_url == NULL) {
		/* TCP on loopback, not ipc: nng 1.5's ipc listener stops
		 * answering after a peer disconnects mid-handshake (nng issue
		 * #1518), which a frozen node plus a timed-out ticketctl
		 * triggers. */
		const char *colon = strrchr(conf.data_url, ':');
		uint64_t port;
		if (strncmp(conf.data_url, "tcp://", 6) != 0 ||
		    colon == NULL ||
		    tr_parse_u64(colon + 1, 1, 65435, &port) != 0)
			tr_flag_die("--admin",
			    "required when --listen is not "
			    "tcp://HOST:PORT");
		snprintf(admin_default, sizeof(admin_default),
		    "tcp://127.0.0.1:%llu", (unsigned long long)port + 100);
		conf.admin_url = admin_default;
	}
	tr_log_init("stockd", (enum tr_log_level)level);
	if (!conf.standalone &&
	    conf.sweep_ms * TR_SWEEPER_LEASE_SWEEPS >= conf.liveness_ttl_ms)
		/* Allowed (tests slow the sweep down to keep it out of the
		 * way), but the dead-node bound grows by the role's lapse. */
		tr_warn("--sweep %" PRIu64 " ms: a node that dies while it is "
		        "the sweeper is reclaimed up to %d sweeps after its "
		        "liveness lapses; keep %d sweeps under --liveness-ttl",
		    conf.sweep_ms, TR_SWEEPER_LEASE_SWEEPS,
		    TR_SWEEPER_LEASE_SWEEPS);

	/* Signals go to sigwait below, not to nng's or our threads. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (tr_node_start(&conf, &node, &why) != 0) {
		fprintf(stderr, "stockd: %s\n", why);
		return 1;
	}
	sigwait(&sigs, &sig);
	tr_info("signal %d: stopping", sig);
	tr_node_stop(node, 5000);
	tr_info("stopped");
	return 0;
}

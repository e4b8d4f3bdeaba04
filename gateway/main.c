/* trgate: the ticketrush HTTP gateway. Parses flags, configures h2o, opens
 * the stock nodes' sockets and one SO_REUSEPORT listener per loop thread,
 * runs until SIGTERM or SIGINT, then stops gracefully. */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gw.h"
#include "tr_err.h"
#include "tr_ids.h"
#include "tr_log.h"
#include "tr_flag.h"
#include "tr_parse.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: trgate --node "
	    "ID=URL[,weight=W][,max_fails=N][,fail_timeout=DUR]...\n"
	    "              [options]\n"
	    "The ticketrush HTTP gateway (docs/HTTP-API.md): smooth weighted "
	    "round-robin\n"
	    "over stock nodes, fan-out past sold-out nodes, a sold-out "
	    "cache.\n"
	    "\n"
	    "  --listen HOST:PORT      HTTP address (default 127.0.0.1:8080)\n"
	    "  --node ID=URL,...       a stock node (repeat per node): ID is "
	    "its\n"
	    "                          --node-id, URL its data socket; weight "
	    "(1),\n"
	    "                          max_fails (3) and fail_timeout (10s) "
	    "as nginx's\n"
	    "  --threads N             event loops (default: number of "
	    "cores)\n"
	    "  --default-event ID      the event of GET /buy/ticket, and of "
	    "the\n"
	    "                          live page GET /dashboard (else "
	    "?event=ID)\n"
	    "  --upstream-timeout DUR  per round trip to a node (default 3s)\n"
	    "  --max-inflight N        operations in flight per node; past it "
	    "503\n"
	    "                          (default 4096)\n"
	    "  --batch-max N           operations per message to a node "
	    "(default 64)\n"
	    "  --batch-wait DUR        how long a batch waits to fill "
	    "(default 1ms;\n"
	    "                          0: it leaves at the end of the loop "
	    "turn)\n"
	    "  --calls-per-node N      messages in flight per node per thread "
	    "(16);\n"
	    "                          what waits meanwhile joins the next "
	    "batch\n"
	    "  --soldout-ttl DUR       how long a sold-out answer is cached "
	    "(100ms)\n"
	    "  --max-connections N     client connections, all threads "
	    "(10000)\n"
	    "  --request-timeout DUR   to send a request, and keep-alive idle "
	    "(10s)\n"
	    "  --log-level LEVEL       debug, info, warn, error (default "
	    "info)\n"
	    "  -h, --help\n");
}

static void
parse_node(gw_conf *c, const char *arg)
{
	char buf[512], *save = NULL, *tok, *eq;
	int i = c->nnodes;

	if (i == TR_NODES_MAX)
		tr_flag_die("--node (at most 32)", arg);
	if (strlen(arg) >= sizeof(buf))
		tr_flag_die("--node", arg);
	strcpy(buf, arg);
	tok = strtok_r(buf, ",", &save);
	if (tok == NULL || (eq = strchr(tok, '=')) == NULL)
		tr_flag_die("--node (ID=URL,...)", arg);
	*eq = '\0';
	if (!tr_node_id_valid(tok) ||
	    strlen(eq + 1) >= sizeof(c->nodes[i].url) ||
	    strncmp(eq + 1, "tcp://", 6) != 0)
		tr_flag_die(
		    "--node (ID of [A-Za-z0-9_-], URL tcp://HOST:PORT)", arg);
	for (int k = 0; k < i; k++)
		if (strcmp(c->nodes[k].id, tok) == 0)
			tr_flag_die("--node (ID given twice)", arg);
	strcpy(c->nodes[i].id, tok);
	strcpy(c->nodes[i].url, eq + 1);
	c->nodes[i].weight = 1;
	c->nodes[i].max_fails = 3;
	c->nodes[i].fail_timeout_ms = 10000;
	while ((tok = strtok_r(NULL, ",", &save)) != NULL) {
		if (strncmp(tok, "weight=", 7) == 0)
			c->nodes[i].weight =
			    (int)tr_flag_u64("weight", tok + 7, 1, 1000);
		else if (strncmp(tok, "max_fails=", 10) == 0)
			c->nodes[i].max_fails =
			    (int)tr_flag_u64("max_fails", tok + 10, 0, 1000);
		else if (strncmp(tok, "fail_timeout=", 13) == 0)
			c->nodes[i].fail_timeout_ms =
			    tr_flag_duration("fail_timeout", tok + 13, 0,
			        3600000);
		else
			tr_flag_die("--node option", tok);
	}
	c->nnodes++;
}

static int
listen_socket(const char *host, int port)
{
	struct sockaddr_in a = {0};
	int fd, on = 1;

	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
		return -1;
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	/* One listener per loop thread on the same port: the kernel spreads
	 * connections over them. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) != 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(fd, 4096) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {{"listen", 1, NULL, 'l'},
	    {"node", 1, NULL, 'n'}, {"threads", 1, NULL, 't'},
	    {"default-event", 1, NULL, 'e'},
	    {"upstream-timeout", 1, NULL, 'u'}, {"max-inflight", 1, NULL, 'i'},
	    {"batch-max", 1, NULL, 'b'}, {"calls-per-node", 1, NULL, 'C'},
	    {"batch-wait", 1, NULL, 'W'}, {"soldout-ttl", 1, NULL, 's'},
	    {"max-connections", 1, NULL, 'c'},
	    {"request-timeout", 1, NULL, 'r'}, {"log-level", 1, NULL, 'L'},
	    {"help", 0, NULL, 'h'}, {NULL, 0, NULL, 0}};
	static struct gw gw;
	gw_conf *c = &gw.conf;
	h2o_hostconf_t *host;
	h2o_handler_t *handler;
	int fds[GW_THREADS_MAX];
	int opt, sig, level = TR_LOG_INFO;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	sigset_t sigs;

	tr_flag_program("trgate");
	strcpy(c->listen_host, "127.0.0.1");
	c->listen_port = 8080;
	c->threads = cores > 0
	    ? (int)(cores < GW_THREADS_MAX ? cores : GW_THREADS_MAX)
	    : 1;
	c->upstream_timeout_ms = 3000;
	c->max_inflight = 4096;
	c->batch_max = 64;
	c->batch_wait_ms = 1;
	c->calls_per_node = 16;
	c->soldout_ttl_ms = 100;
	c->max_connections = 10000;
	c->request_timeout_ms = 10000;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			if (tr_parse_hostport(optarg, c->listen_host,
			        sizeof(c->listen_host), &c->listen_port) != 0)
				tr_flag_die("--listen (HOST:PORT)", optarg);
			break;
		case 'n': parse_node(c, optarg); break;
		case 't':
			c->threads = (int)tr_flag_u64("--threads", optarg, 1,
			    GW_THREADS_MAX);
			break;
		case 'e':
			if (!tr_event_id_valid(optarg))
				tr_flag_die("--default-event", optarg);
			strcpy(c->default_event, optarg);
			break;
		case 'u':
			c->upstream_timeout_ms =
			    tr_flag_duration("--upstream-timeout", optarg, 1,
			        600000);
			break;
		case 'i':
			c->max_inflight =
			    tr_flag_u64("--max-inflight", optarg, 1, 10000000);
			break;
		case 'b':
			c->batch_max = (int)tr_flag_u64("--batch-max", optarg,
			    1, GW_BATCH_LIMIT);
			break;
		case 'W':
			c->batch_wait_ms =
			    tr_flag_duration("--batch-wait", optarg, 0, 100);
			break;
		case 'C':
			c->calls_per_node =
			    (int)tr_flag_u64("--calls-per-node", optarg, 1,
			        1024);
			break;
		case 's':
			c->soldout_ttl_ms = tr_flag_duration("--soldout-ttl",
			    optarg, 1, 60000);
			break;
		case 'c':
			c->max_connections =
			    (int)tr_flag_u64("--max-connections", optarg, 1,
			        1000000);
			break;
		case 'r':
			c->request_timeout_ms =
			    tr_flag_duration("--request-timeout", optarg, 100,
			        3600000);
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
	if (c->nnodes == 0) {
		fprintf(stderr, "trgate: give at least one --node\n");
		usage(stderr);
		return 2;
	}
	tr_log_init("trgate", (enum tr_log_level)level);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	gw.instance = tr_random_u64();
	pthread_mutex_init(&gw.wrr_lock, NULL);
	pthread_mutex_init(&gw.start_lock, NULL);
	pthread_cond_init(&gw.start_cond, NULL);
	tr_wrr_init(&gw.wrr);
	for (int i = 0; i < c->nnodes; i++) {
		if (tr_wrr_add(&gw.wrr, c->nodes[i].id, c->nodes[i].weight,
		        c->nodes[i].max_fails,
		        c->nodes[i].fail_timeout_ms) != i ||
		    gw_node_open(&gw.nodes[i], c->nodes[i].id, c->nodes[i].url,
		        i) != 0) {
			fprintf(stderr, "trgate: cannot use node %s\n",
			    c->nodes[i].id);
			return 1;
		}
	}

	h2o_config_init(&gw.h2o);
	gw.h2o.server_name = h2o_iovec_init(H2O_STRLIT("trgate"));
	gw.h2o.max_request_entity_size = TR_HTTP_BODY_READ_MAX;
	gw.h2o.http1.req_timeout = (uint64_t)c->request_timeout_ms;
	gw.h2o.http1.upgrade_to_http2 = 0;
	host = h2o_config_register_host(&gw.h2o,
	    h2o_iovec_init(H2O_STRLIT("default")), 65535);
	handler = h2o_create_handler(h2o_config_register_path(host, "/", 0),
	    sizeof(*handler));
	handler->on_req = gw_on_req;

	for (int i = 0; i < c->threads; i++) {
		if ((fds[i] = listen_socket(c->listen_host, c->listen_port)) <
		    0) {
			fprintf(stderr, "trgate: cannot listen on %s:%d: %m\n",
			    c->listen_host, c->listen_port);
			return 1;
		}
	}
	for (int i = 0; i < c->threads; i++) {
		if (gw_thread_start(&gw, i, fds[i]) != 0) {
			fprintf(stderr, "trgate: cannot start thread %d\n", i);
			return 1;
		}
	}
	tr_info("listening on %s:%d, %d thread(s), %d node(s), default event "
	        "%s",
	    c->listen_host, c->listen_port, c->threads, c->nnodes,
	    c->default_event[0] ? c->default_event : "(none)");
	sigwait(&sigs, &sig);
	tr_info("signal %d: stopping", sig);
	atomic_store(&gw.stopping, true);
	gw_threads_join(&gw);
	tr_info("stopped");
	return 0;
}

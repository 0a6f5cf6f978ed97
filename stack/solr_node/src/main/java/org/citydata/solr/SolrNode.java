package org.citydata.solr;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.solr.core.CoreContainer;
import org.apache.solr.embedded.JettyConfig;
import org.apache.solr.embedded.JettySolrRunner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One standalone Solr 9 node for the citydata stack, served by Solr's embedded Jetty runner.
 *
 * <p>Usage: {@code java -jar solr-node.jar --home SOLR_HOME --port PORT [--host 127.0.0.1]}.
 * Starts the node, exits non-zero when a core failed to load, then blocks until SIGTERM and
 * shuts Solr down cleanly (the shutdown hook stops Jetty and closes the cores).
 */
public final class SolrNode {

  /** JettySolrRunner always binds its connector to the loopback address. */
  static final String LOOPBACK = "127.0.0.1";

  static final int EXIT_USAGE = 64;
  static final int EXIT_START_FAILED = 1;
  static final int EXIT_CORE_FAILED = 2;

  private static final long CORE_LOAD_TIMEOUT_MS = 120_000;
  private static final String USAGE =
      "usage: java -jar solr-node.jar --home SOLR_HOME --port PORT [--host 127.0.0.1]";

  private static final Logger LOG = LoggerFactory.getLogger(SolrNode.class);

  private SolrNode() {}

  public static void main(String[] args) throws InterruptedException {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("solr-node: " + e.getMessage());
      System.err.println(USAGE);
      System.exit(EXIT_USAGE);
      return;
    }

    // stopAtShutdown(false): our hook below stops the runner (Jetty's own hook would race it).
    // withPortRetryTime(0): a busy port fails at once (the default retries for 60 s).
    JettyConfig config =
        JettyConfig.builder()
            .setPort(options.port)
            .stopAtShutdown(false)
            .withPortRetryTime(0)
            .waitForLoadingCoresToFinish(CORE_LOAD_TIMEOUT_MS)
            .build();
    JettySolrRunner runner = new JettySolrRunner(options.home.toString(), config);

    // One shutdown path for SIGTERM, SIGINT and System.exit: stop Jetty, close the cores.
    CountDownLatch stopped = new CountDownLatch(1);
    AtomicBoolean stopping = new AtomicBoolean();
    AtomicBoolean startFailed = new AtomicBoolean();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  if (!stopping.compareAndSet(false, true)) {
                    return;
                  }
                  LOG.info("solr-node: stopping");
                  try {
                    runner.stop();
                    LOG.info("solr-node: stopped");
                  } catch (Exception e) {
                    if (startFailed.get()) {
                      LOG.info("solr-node: nothing to stop after the failed start ({})", rootMessage(e));
                    } else {
                      LOG.warn("solr-node: error while stopping", e);
                    }
                  } finally {
                    stopped.countDown();
                  }
                },
                "solr-node-shutdown"));

    LOG.info("solr-node: starting Solr home {} on http://{}:{}/solr", options.home, LOOPBACK, options.port);
    try {
      runner.start();
    } catch (Exception e) {
      startFailed.set(true);
      LOG.error("solr-node: could not start Jetty/Solr: {}", rootMessage(e), e);
      System.exit(EXIT_START_FAILED);
      return;
    }

    String failure = coreFailures(runner);
    if (failure != null) {
      LOG.error("solr-node: {}", failure);
      System.exit(EXIT_CORE_FAILED);
      return;
    }

    CoreContainer cores = runner.getCoreContainer();
    LOG.info(
        "solr-node: ready at http://{}:{}/solr, cores {}",
        LOOPBACK,
        runner.getLocalPort(),
        cores.getAllCoreNames());
    stopped.await();
  }

  /** A description of what failed to load, or null when every core is up. */
  static String coreFailures(JettySolrRunner runner) {
    CoreContainer cores = runner.getCoreContainer();
    if (cores == null || cores.isShutDown()) {
      return "Solr did not create its core container (bad solr.xml? see the log above)";
    }
    Map<String, CoreContainer.CoreLoadFailure> failures = cores.getCoreInitFailures();
    if (!failures.isEmpty()) {
      StringBuilder message = new StringBuilder("core(s) failed to load:");
      for (Map.Entry<String, CoreContainer.CoreLoadFailure> entry : failures.entrySet()) {
        Throwable cause = entry.getValue().exception;
        LOG.error("solr-node: core {} failed to load", entry.getKey(), cause);
        message.append(' ').append(entry.getKey()).append(": ").append(rootMessage(cause)).append(';');
      }
      return message.toString();
    }
    if (cores.getAllCoreNames().isEmpty()) {
      return "no core found under the Solr home (a core folder needs core.properties)";
    }
    return null;
  }

  static String rootMessage(Throwable error) {
    Throwable root = error;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage();
    return root.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }

  /** Command-line options: --home, --port, --host (loopback only). */
  static final class Options {
    final Path home;
    final int port;

    private Options(Path home, int port) {
      this.home = home;
      this.port = port;
    }

    static Options parse(String[] args) {
      Path home = null;
      Integer port = null;
      for (int i = 0; i < args.length; i++) {
        String arg = args[i];
        String value;
        int eq = arg.indexOf('=');
        if (arg.startsWith("--") && eq > 0) {
          value = arg.substring(eq + 1);
          arg = arg.substring(0, eq);
        } else if (i + 1 < args.length) {
          value = args[++i];
        } else {
          throw new IllegalArgumentException("missing value for " + arg);
        }
        switch (arg) {
          case "--home":
            home = Path.of(value).toAbsolutePath().normalize();
            break;
          case "--port":
            try {
              port = Integer.valueOf(value);
            } catch (NumberFormatException e) {
              throw new IllegalArgumentException("--port must be a number, got " + value);
            }
            if (port < 1 || port > 65535) {
              throw new IllegalArgumentException("--port out of range: " + port);
            }
            break;
          case "--host":
            if (!LOOPBACK.equals(value)) {
              throw new IllegalArgumentException(
                  "--host must be " + LOOPBACK + " (the embedded Jetty binds loopback only)");
            }
            break;
          default:
            throw new IllegalArgumentException("unknown option " + arg);
        }
      }
      if (home == null || port == null) {
        throw new IllegalArgumentException("--home and --port are required");
      }
      if (!Files.isRegularFile(home.resolve("solr.xml"))) {
        throw new IllegalArgumentException("no solr.xml in " + home);
      }
      return new Options(home, port);
    }
  }
}

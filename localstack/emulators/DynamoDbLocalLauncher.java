import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * Starts DynamoDB Local the way the shardflow local cloud needs it, which its command line cannot:
 * bound to 127.0.0.1 only (DynamoDB Local always listens on every interface), on a free port chosen
 * by the OS and reported on stdout (no probe-then-bind race), and exiting when its parent goes away
 * (stdin reaches end of file), so a killed test run leaves no JVM behind.
 *
 * usage: java -cp DynamoDBLocal.jar:DynamoDBLocal_lib/* DynamoDbLocalLauncher.java [DynamoDB Local options]
 * The port option is ignored: the port is always chosen by the OS.
 */
public final class DynamoDbLocalLauncher {
  private DynamoDbLocalLauncher() {}

  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    // The Jetty server is private to DynamoDBProxyServer; its connector is reconfigured before start.
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    ServerConnector connector = null;
    for (Connector candidate : server.getConnectors()) {
      if (candidate instanceof ServerConnector) {
        connector = (ServerConnector) candidate;
        connector.setHost("127.0.0.1");
        connector.setPort(0);
      }
    }
    if (connector == null) throw new IllegalStateException("DynamoDB Local has no ServerConnector");
    Thread watchdog = new Thread(() -> {
      try {
        while (System.in.read() != -1) {
          // Input is ignored; only end of file matters.
        }
      } catch (Exception ignored) {
        // A broken pipe means the parent is gone as well.
      }
      System.exit(0);
    }, "parent-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
    proxy.start();
    System.out.println("shardflow:listening " + connector.getLocalPort());
    System.out.flush();
    proxy.join();
  }
}

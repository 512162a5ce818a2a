package io.switchboard.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * The benchmark's load generator: HTTP/1.1 POSTs over kept-alive blocking sockets, one request per
 * connection at a time, each request's bytes rendered before the timed phase.
 *
 * <p>Why not {@code java.net.http.HttpClient}: on this 2-core machine it took 0.6-0.8 ms of CPU per
 * request (its selector thread, its workers and their CompletableFuture chains), a quarter of what a
 * webhook cost the whole process, and it ran on the same cores as the pipeline it measured. Telegram,
 * VK and Meta send their webhooks from their own machines. A blocking write and read per request is
 * about as little as a client can do, so what the benchmark prints is the product's cost.
 *
 * <p>Requests wait in a queue when {@link #MAX_CONNECTIONS} are in flight; in the open-loop phase the
 * time in that queue counts, since the send time is taken when the request is due.
 */
final class BenchHttp implements AutoCloseable {

    /** More than Tomcat's 200 request threads, so the server, not the generator, is what queues. */
    static final int MAX_CONNECTIONS = 512;

    private final InetSocketAddress server;
    private final ConcurrentLinkedQueue<Connection> idle = new ConcurrentLinkedQueue<>();
    private final ThreadPoolExecutor senders;

    BenchHttp(String host, int port) {
        this.server = new InetSocketAddress(host, port);
        AtomicInteger threads = new AtomicInteger();
        this.senders = new ThreadPoolExecutor(MAX_CONNECTIONS, MAX_CONNECTIONS, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "bench-http-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        senders.allowCoreThreadTimeOut(true);
    }

    /** The bytes of a POST with a body, complete with Host and Content-Length. */
    static byte[] post(String host, String path, Map<String, String> headers, String body) {
        byte[] content = body.getBytes(StandardCharsets.UTF_8);
        StringBuilder head = new StringBuilder("POST ").append(path).append(" HTTP/1.1\r\nHost: ").append(host).append("\r\n");
        headers.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
        head.append("Content-Length: ").append(content.length).append("\r\n\r\n");
        byte[] start = head.toString().getBytes(StandardCharsets.UTF_8);
        byte[] request = new byte[start.length + content.length];
        System.arraycopy(start, 0, request, 0, start.length);
        System.arraycopy(content, 0, request, start.length, content.length);
        return request;
    }

    /** Sends the request on a free kept-alive connection; {@code done} gets the status, or -1 on an I/O failure. */
    void send(byte[] request, IntConsumer done) {
        senders.execute(() -> {
            int status = -1;
            Connection connection = idle.poll();
            // A kept-alive connection may have been closed by the server while idle between phases: such a
            // request is sent again on a new connection (webhooks are idempotent by their event id).
            for (boolean fresh = connection == null; status < 0; fresh = true) {
                try {
                    if (connection == null) {
                        connection = new Connection(server);
                    }
                    status = connection.exchange(request);
                    if (connection.reusable) {
                        idle.add(connection);
                    } else {
                        connection.close();
                    }
                } catch (IOException e) {
                    if (connection != null) {
                        connection.close();
                        connection = null;
                    }
                    if (fresh) {
                        System.err.println("webhook request failed: " + e);
                        break;
                    }
                }
            }
            done.accept(status);
        });
    }

    @Override
    public void close() {
        senders.shutdownNow();
        Connection c;
        while ((c = idle.poll()) != null) {
            c.close();
        }
    }

    /** One kept-alive connection: writes a request, reads the status, the headers and the body it announces. */
    static final class Connection {
        private final Socket socket;
        private final OutputStream out;
        private final InputStream in;
        boolean reusable = true;

        Connection(InetSocketAddress server) throws IOException {
            socket = new Socket();
            socket.setTcpNoDelay(true);
            socket.connect(server, 10_000);
            socket.setSoTimeout(600_000);
            out = socket.getOutputStream();
            in = new BufferedInputStream(socket.getInputStream(), 8192);
        }

        int exchange(byte[] request) throws IOException {
            out.write(request);
            out.flush();
            String statusLine = line();
            if (!statusLine.startsWith("HTTP/1.1 ") || statusLine.length() < 12) {
                throw new IOException("not an HTTP/1.1 answer: " + statusLine);
            }
            int status = Integer.parseInt(statusLine.substring(9, 12));
            long length = 0;
            boolean chunked = false;
            for (String header = line(); !header.isEmpty(); header = line()) {
                int colon = header.indexOf(':');
                String name = colon < 0 ? header : header.substring(0, colon).trim();
                String value = colon < 0 ? "" : header.substring(colon + 1).trim();
                if (name.equalsIgnoreCase("Content-Length")) {
                    length = Long.parseLong(value);
                } else if (name.equalsIgnoreCase("Transfer-Encoding") && value.equalsIgnoreCase("chunked")) {
                    chunked = true;
                } else if (name.equalsIgnoreCase("Connection") && value.equalsIgnoreCase("close")) {
                    reusable = false;
                }
            }
            if (chunked) {
                for (long size = Long.parseLong(line().split(";")[0].trim(), 16); size > 0; size = Long.parseLong(line().split(";")[0].trim(), 16)) {
                    skip(size);
                    line(); // the CRLF after the chunk
                }
                for (String trailer = line(); !trailer.isEmpty(); trailer = line()) {
                    // trailers, if any, are not needed
                }
            } else {
                skip(length);
            }
            return status;
        }

        private String line() throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
            for (int b = in.read(); b != '\n'; b = in.read()) {
                if (b < 0) {
                    throw new IOException("connection closed mid-answer");
                }
                if (b != '\r') {
                    bytes.write(b);
                }
            }
            return bytes.toString(StandardCharsets.ISO_8859_1);
        }

        private void skip(long n) throws IOException {
            while (n > 0) {
                long skipped = in.skip(n);
                if (skipped <= 0) {
                    if (in.read() < 0) {
                        throw new IOException("connection closed mid-body");
                    }
                    skipped = 1;
                }
                n -= skipped;
            }
        }

        void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing a connection we no longer use
            }
        }
    }
}

package io.switchboard.channel.email;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/** A scripted SMTP server: answers RCPT TO with what the test says, per attempt, and records the DATA it got. */
final class FakeSmtpServer implements AutoCloseable {

    private final ServerSocket socket;
    private final IntFunction<String> rcptReply;
    final AtomicInteger attempts = new AtomicInteger();
    final List<String> messages = new CopyOnWriteArrayList<>();

    /** @param rcptReply the reply to RCPT TO for attempt n (1-based), e.g. "250 OK" or "550 5.1.1 no such user" */
    FakeSmtpServer(IntFunction<String> rcptReply) throws IOException {
        this.rcptReply = rcptReply;
        this.socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::serve, "fake-smtp");
        t.setDaemon(true);
        t.start();
    }

    int port() {
        return socket.getLocalPort();
    }

    private void serve() {
        while (!socket.isClosed()) {
            try (Socket s = socket.accept()) {
                session(s);
            } catch (IOException e) {
                // closed or the client went away
            }
        }
    }

    private void session(Socket s) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
        OutputStream out = s.getOutputStream();
        write(out, "220 fake.test ESMTP");
        String line;
        while ((line = in.readLine()) != null) {
            String cmd = line.toUpperCase();
            if (cmd.startsWith("EHLO") || cmd.startsWith("HELO")) {
                write(out, "250-fake.test\r\n250 8BITMIME");
            } else if (cmd.startsWith("MAIL FROM")) {
                write(out, "250 2.1.0 OK");
            } else if (cmd.startsWith("RCPT TO")) {
                write(out, rcptReply.apply(attempts.incrementAndGet()));
            } else if (cmd.startsWith("DATA")) {
                write(out, "354 go ahead");
                StringBuilder data = new StringBuilder();
                String d;
                while ((d = in.readLine()) != null && !d.equals(".")) {
                    data.append(d).append('\n');
                }
                messages.add(data.toString());
                write(out, "250 2.0.0 queued");
            } else if (cmd.startsWith("RSET") || cmd.startsWith("NOOP")) {
                write(out, "250 OK");
            } else if (cmd.startsWith("QUIT")) {
                write(out, "221 bye");
                return;
            } else {
                write(out, "502 5.5.1 unrecognized command");
            }
        }
    }

    private static void write(OutputStream out, String reply) throws IOException {
        out.write((reply + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}

package io.switchboard.channel.email;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetup;
import com.icegreen.greenmail.util.ServerSetupTest;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.InboundEnvelope;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.mock.MockProducerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/** The poller survives a dropped IMAP connection: it reconnects with backoff and fetches what arrived meanwhile. */
class EmailPollerReconnectTest {

    final GreenMail mail = new GreenMail(ServerSetup.dynamicPort(ServerSetupTest.SMTP_IMAP));
    /** The template closes its producer after each send: every send gets a fresh mock, all are kept. */
    final List<MockProducer<String, byte[]>> producers = new CopyOnWriteArrayList<>();
    final Map<String, EmailCursors.Cursor> saved = new ConcurrentHashMap<>();
    EmailPoller poller;
    DroppingProxy proxy;

    @AfterEach
    void stop() throws IOException {
        if (poller != null) {
            poller.stop();
        }
        if (proxy != null) {
            proxy.close();
        }
        mail.stop();
    }

    private void startPoller(String imapUrl, String initialSync) {
        startPoller(imapUrl, initialSync, null);
    }

    private void startPoller(String imapUrl, String initialSync, Boolean idle) {
        KafkaTemplate<String, byte[]> kafka = new KafkaTemplate<>(new MockProducerFactory<>(() -> {
            MockProducer<String, byte[]> p = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
            producers.add(p);
            return p;
        }));
        EmailCursors cursors = new EmailCursors(kafka, null) {
            @Override
            synchronized void load() {
                // nothing stored yet: a new mailbox
            }

            @Override
            void save(String mailbox, Cursor cursor) throws Exception {
                super.save(mailbox, cursor);
                saved.put(mailbox, cursor);
            }
        };
        EmailProperties.Account account = new EmailProperties.Account(URI.create(imapUrl), null, null, null, idle, initialSync);
        EmailProperties props = new EmailProperties(Map.of("default", account), 0, 0, Duration.ofSeconds(1), Duration.ofSeconds(2));
        StaticListableBeanFactory beans = new StaticListableBeanFactory();
        beans.addBean("clock", Clock.systemUTC());
        poller = new EmailPoller(props, cursors, kafka, beans.getBeanProvider(Clock.class),
                beans.getBeanProvider(io.micrometer.core.instrument.MeterRegistry.class),
                beans.getBeanProvider(EmailPayloadStore.class));
        poller.start();
    }

    @Test
    void aFirstSyncTakesUnreadMailOrAllOfItWhenConfigured() throws Exception {
        mail.start();
        com.icegreen.greenmail.user.GreenMailUser user = mail.setUser("support@localhost", "support", "secret");
        for (String subject : List.of("old and read", "old and unread")) {
            jakarta.mail.internet.MimeMessage m = GreenMailUtil.createTextEmail("support@localhost", "c@example.org", subject,
                    "x", mail.getSmtp().getServerSetup());
            if (subject.contains("and read")) {
                m.setFlag(jakarta.mail.Flags.Flag.SEEN, true);
            }
            user.deliver(m);
        }
        String url = "imap://support:secret@127.0.0.1:" + mail.getImap().getPort() + "/INBOX";
        startPoller(url, null);
        awaitPublished(1);
        Thread.sleep(1500); // one more sync round: nothing else may come
        assertThat(subjects()).containsExactly("old and unread");
        poller.stop();

        producers.clear();
        saved.clear();
        startPoller(url, "all"); // a fresh adapter state, configured to take everything
        awaitPublished(2);
        assertThat(subjects()).containsExactlyInAnyOrder("old and read", "old and unread");
    }

    @Test
    void withoutIdleNewMailIsStillPickedUpByPolling() throws Exception {
        mail.start();
        mail.setUser("support@localhost", "support", "secret");
        // GreenMail offers IDLE; the account turns it off, as for a server without it
        startPoller("imap://support:secret@127.0.0.1:" + mail.getImap().getPort() + "/INBOX", null, false);
        long deadline = System.currentTimeMillis() + 20_000;
        while (poller.status().get("default").lastSyncAt() == null && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        java.time.Instant firstSync = poller.status().get("default").lastSyncAt();
        assertThat(firstSync).as("first sync").isNotNull();

        for (String subject : List.of("polled one", "polled two")) {
            GreenMailUtil.sendTextEmail("support@localhost", "c@example.org", subject, "x", mail.getSmtp().getServerSetup());
            // sampled while the mail waits: the worker is never in IDLE
            assertThat(poller.status().get("default").idle()).isFalse();
            awaitPublished(subject.equals("polled one") ? 1 : 2);
        }
        assertThat(subjects()).containsExactly("polled one", "polled two");
        assertThat(poller.status().get("default").idle()).isFalse();
        // found by later syncs (one per poll-interval), not the first one
        assertThat(poller.status().get("default").lastSyncAt()).isAfter(firstSync);
        assertThat(poller.status().get("default").connected()).isTrue();
    }

    private List<String> subjects() {
        return history().stream().filter(r -> r.topic().equals("inbox.inbound.email.v1")).map(ProducerRecord::value)
                .map(v -> new String(ContractJson.fromBytes(v, InboundEnvelope.class).payloadBytes()))
                .map(raw -> raw.substring(raw.indexOf("Subject: ") + 9).split("\r?\n")[0]).toList();
    }

    @Test
    void aDroppedConnectionIsReestablishedAndNothingIsMissed() throws Exception {
        mail.start();
        mail.setUser("support@localhost", "support", "secret");
        proxy = new DroppingProxy(mail.getImap().getPort());
        startPoller("imap://support:secret@127.0.0.1:" + proxy.port() + "/INBOX", null);

        GreenMailUtil.sendTextEmail("support@localhost", "a@example.org", "before the drop", "one", mail.getSmtp().getServerSetup());
        awaitPublished(1);

        proxy.dropAll();
        GreenMailUtil.sendTextEmail("support@localhost", "b@example.org", "after the drop", "two", mail.getSmtp().getServerSetup());
        awaitPublished(2);

        List<String> subjects = history().stream().filter(r -> r.topic().equals("inbox.inbound.email.v1")).map(ProducerRecord::value).filter(v -> v != null)
                .map(v -> new String(ContractJson.fromBytes(v, InboundEnvelope.class).payloadBytes()))
                .filter(raw -> raw.contains("Subject:"))
                .map(raw -> raw.substring(raw.indexOf("Subject: ") + 9).split("\r?\n")[0]).toList();
        assertThat(subjects).containsExactly("before the drop", "after the drop");
        assertThat(proxy.connections()).isGreaterThan(1);
        // the cursor moves right after the broker took the message
        long deadline = System.currentTimeMillis() + 10_000;
        while ((saved.get("default/INBOX") == null || saved.get("default/INBOX").lastUid() < 2)
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertThat(saved.get("default/INBOX")).isNotNull();
        assertThat(saved.get("default/INBOX").lastUid()).isEqualTo(2);
        assertThat(poller.status().get("default").connected()).isTrue();
    }

    private void awaitPublished(int envelopes) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < deadline) {
            long n = history().stream().filter(r -> r.topic().equals("inbox.inbound.email.v1")).count();
            if (n >= envelopes) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("expected " + envelopes + " envelopes, got "
                + history().stream().filter(r -> r.topic().equals("inbox.inbound.email.v1")).count());
    }

    private List<ProducerRecord<String, byte[]>> history() {
        return producers.stream().flatMap(p -> p.history().stream()).toList();
    }

    /** Forwards TCP to the IMAP server and can cut every open connection at once. */
    static final class DroppingProxy implements AutoCloseable {
        private final ServerSocket server;
        private final int target;
        private final List<Socket> open = new CopyOnWriteArrayList<>();
        private volatile int connections;

        DroppingProxy(int target) throws IOException {
            this.target = target;
            this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread t = new Thread(this::accept, "imap-proxy");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return server.getLocalPort();
        }

        int connections() {
            return connections;
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    Socket client = server.accept();
                    Socket upstream = new Socket(InetAddress.getLoopbackAddress(), target);
                    connections++;
                    open.add(client);
                    open.add(upstream);
                    pipe(client.getInputStream(), upstream.getOutputStream());
                    pipe(upstream.getInputStream(), client.getOutputStream());
                } catch (IOException e) {
                    // closed
                }
            }
        }

        private static void pipe(InputStream in, OutputStream out) {
            Thread t = new Thread(() -> {
                try {
                    in.transferTo(out);
                } catch (IOException ignored) {
                    // a side closed
                } finally {
                    try {
                        out.close();
                    } catch (IOException ignored) {
                        // same
                    }
                }
            }, "imap-proxy-pipe");
            t.setDaemon(true);
            t.start();
        }

        void dropAll() {
            for (Socket s : open) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // already closed
                }
            }
            open.clear();
        }

        @Override
        public void close() throws IOException {
            dropAll();
            server.close();
        }
    }
}

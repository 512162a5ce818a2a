package io.switchboard.channel.email;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetup;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.InboundEnvelope;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.mock.MockProducerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Health and metrics of a mailbox against a real IMAP server (GreenMail) that is stopped and started again:
 * OUT_OF_SERVICE only after {@code unhealthy-after} without a sync, with the error type and no address or
 * password in the details; UP again and everything fetched once the server is back. The metrics follow
 * pending, ingested and the last sync, including messages waiting for the broker.
 */
class EmailHealthAndMetricsTest {

    static final String PASSWORD = "s3cret-pw";

    final int imapPort = freePort();
    final int smtpPort = freePort();
    final List<MockProducer<String, byte[]>> producers = new CopyOnWriteArrayList<>();
    /** While false, new sends stay unacknowledged until {@link #acknowledgeAll()}: a slow broker. */
    volatile boolean brokerAnswers = true;
    final MeterRegistry meters = new SimpleMeterRegistry();
    GreenMail mail;
    EmailPoller poller;
    EmailHealthIndicator health;

    @AfterEach
    void stop() {
        brokerAnswers = true;
        acknowledgeAll();
        if (poller != null) {
            poller.stop();
        }
        if (mail != null) {
            mail.stop();
        }
    }

    private void startMail() {
        // fixed ports: the adapter must find the restarted server where the stopped one was
        mail = new GreenMail(new ServerSetup[]{new ServerSetup(imapPort, "127.0.0.1", ServerSetup.PROTOCOL_IMAP),
                new ServerSetup(smtpPort, "127.0.0.1", ServerSetup.PROTOCOL_SMTP)});
        mail.start();
        mail.setUser("support@localhost", "support@localhost", PASSWORD);
    }

    private void startPoller(Duration unhealthyAfter) {
        KafkaTemplate<String, byte[]> kafka = new KafkaTemplate<>(new MockProducerFactory<>(() -> {
            MockProducer<String, byte[]> p = new MockProducer<>(brokerAnswers, null, new StringSerializer(), new ByteArraySerializer());
            producers.add(p);
            return p;
        }));
        EmailCursors cursors = new EmailCursors(kafka, null) {
            @Override
            synchronized void load() {
                // a new mailbox: nothing stored yet
            }
        };
        // the login name is an address on purpose: health must not show it
        EmailProperties.Account account = new EmailProperties.Account(
                URI.create("imap://support%40localhost:" + PASSWORD + "@127.0.0.1:" + imapPort + "/INBOX"), null, null, null, null, "all");
        EmailProperties props = new EmailProperties(Map.of("default", account), 0, 0, Duration.ofSeconds(1),
                Duration.ofMillis(500), unhealthyAfter);
        StaticListableBeanFactory beans = new StaticListableBeanFactory();
        beans.addBean("clock", Clock.systemUTC());
        beans.addBean("meters", meters);
        poller = new EmailPoller(props, cursors, kafka, beans.getBeanProvider(Clock.class),
                beans.getBeanProvider(MeterRegistry.class), beans.getBeanProvider(EmailPayloadStore.class));
        health = new EmailHealthIndicator(poller, new EmailPayloadStore(), props, beans.getBeanProvider(Clock.class));
        poller.start();
    }

    @Test
    void aMailServerDownLongerThanTheThresholdIsOutOfService_andUpAgainWhenItIsBack() throws Exception {
        startMail();
        startPoller(Duration.ofSeconds(3));
        deliver("before the outage");
        awaitPublished(1);
        Health up = await(() -> health.health(), h -> h.getStatus().equals(Status.UP) && "ok".equals(mailbox(h).get("state"))
                && mailbox(h).get("lastSyncAt") != null);
        assertThat(mailbox(up)).containsEntry("ingested", 1L).containsEntry("pending", 0L).containsEntry("connected", true)
                .doesNotContainKeys("errorType", "lastError", "notInSyncSince");
        Instant syncedBeforeOutage = Instant.parse((String) mailbox(up).get("lastSyncAt"));

        mail.stop();
        long stoppedAt = System.nanoTime();
        // within the threshold: retried quietly, the component still UP but the mailbox shown failing
        Health failing = await(() -> health.health(), h -> "failing".equals(mailbox(h).get("state")));
        assertThat(failing.getStatus()).isEqualTo(Status.UP);
        assertThat(mailbox(failing)).containsKeys("errorType", "notInSyncSince").containsEntry("connected", false);

        Health out = await(() -> health.health(), h -> h.getStatus().equals(Status.OUT_OF_SERVICE));
        assertThat(Duration.ofNanos(System.nanoTime() - stoppedAt)).as("not before the threshold").isGreaterThanOrEqualTo(Duration.ofSeconds(3));
        assertThat(mailbox(out)).containsEntry("state", "out-of-service").containsEntry("connected", false)
                .containsEntry("ingested", 1L).containsEntry("lastSyncAt", syncedBeforeOutage.toString());
        assertThat((String) mailbox(out).get("errorType")).isNotBlank();
        assertThat(out.getDetails().toString()).doesNotContain("support@localhost").doesNotContain(PASSWORD).doesNotContain("@localhost");
        assertThat(lastSync()).isEqualTo(syncedBeforeOutage.getEpochSecond());

        startMail();
        deliver("after the outage");
        Health back = await(() -> health.health(), h -> h.getStatus().equals(Status.UP) && "ok".equals(mailbox(h).get("state"))
                && !mailbox(h).get("lastSyncAt").equals(syncedBeforeOutage.toString()));
        assertThat(mailbox(back)).containsEntry("connected", true).doesNotContainKeys("errorType", "lastError", "notInSyncSince");
        // the restarted server is a new mailbox (new UIDVALIDITY): resynced, so the new message is in
        awaitPublished(2);
        assertThat(subjects()).contains("before the outage", "after the outage");
        assertThat(lastSync()).isGreaterThanOrEqualTo(syncedBeforeOutage.getEpochSecond());
    }

    @Test
    void metricsShowPendingWhileTheBrokerHasNotConfirmed_thenIngestedAndTheLastSync() throws Exception {
        startMail();
        for (int i = 1; i <= 3; i++) {
            deliver("slow broker " + i);
        }
        brokerAnswers = false;
        startPoller(Duration.ofMinutes(5));
        // fetched and handed to the producer, not yet acknowledged: pending, not ingested, not flagged, no sync completed
        await(() -> gauge("switchboard.email.pending"), p -> p == 3.0);
        assertThat(gauge("switchboard.email.ingested")).isZero();
        assertThat(lastSync()).isZero();
        assertThat(mailbox(health.health())).containsEntry("pending", 3L).containsEntry("lastSyncAt", null);
        assertThat(seenCount()).isZero();

        brokerAnswers = true;
        acknowledgeAll();
        await(() -> gauge("switchboard.email.ingested"), n -> n == 3.0);
        assertThat(gauge("switchboard.email.pending")).isZero();
        await(() -> seenCount(), n -> n == 3);
        long afterBatch = Instant.now().getEpochSecond();
        await(() -> lastSync(), t -> t >= afterBatch - 1);
        assertThat(mailbox(health.health())).containsEntry("ingested", 3L).containsEntry("pending", 0L).containsEntry("state", "ok");
        assertThat(meters.find("switchboard.email.pending").tag("account", "default").gauge()).isNotNull();
    }

    // ---------------------------------------------------------------- helpers

    private void deliver(String subject) {
        GreenMailUtil.sendTextEmail("support@localhost", "customer@example.org", subject, "body of " + subject,
                mail.getSmtp().getServerSetup());
    }

    /** \Seen as another IMAP client sees it. */
    private long seenCount() {
        try {
            jakarta.mail.Store store = jakarta.mail.Session.getInstance(new java.util.Properties()).getStore("imap");
            store.connect("127.0.0.1", imapPort, "support@localhost", PASSWORD);
            try {
                jakarta.mail.Folder inbox = store.getFolder("INBOX");
                inbox.open(jakarta.mail.Folder.READ_ONLY);
                long n = java.util.Arrays.stream(inbox.getMessages()).filter(m -> {
                    try {
                        return m.isSet(jakarta.mail.Flags.Flag.SEEN);
                    } catch (jakarta.mail.MessagingException e) {
                        throw new IllegalStateException(e);
                    }
                }).count();
                inbox.close(false);
                return n;
            } finally {
                store.close();
            }
        } catch (jakarta.mail.MessagingException e) {
            throw new IllegalStateException(e);
        }
    }

    private double gauge(String name) {
        return meters.get(name).tag("account", "default").gauge().value();
    }

    private long lastSync() {
        return (long) gauge("switchboard.email.last.sync");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> mailbox(Health h) {
        return ((Map<String, Map<String, Object>>) h.getDetails().get("mailboxes")).get("default");
    }

    private void acknowledgeAll() {
        for (MockProducer<String, byte[]> p : producers) {
            while (p.completeNext()) {
                // every outstanding send
            }
        }
    }

    private List<String> subjects() {
        return producers.stream().flatMap(p -> p.history().stream()).filter(r -> r.topic().equals("inbox.inbound.email.v1"))
                .map(ProducerRecord::value).map(v -> new String(ContractJson.fromBytes(v, InboundEnvelope.class).payloadBytes()))
                .map(raw -> raw.substring(raw.indexOf("Subject: ") + 9).split("\r?\n")[0]).toList();
    }

    private void awaitPublished(int n) throws Exception {
        await(() -> subjects().size(), size -> size >= n);
    }

    private static <T> T await(Supplier<T> probe, java.util.function.Predicate<T> done) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        T last = null;
        while (System.nanoTime() < deadline) {
            last = probe.get();
            if (done.test(last)) {
                return last;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("not reached within 30 s; last: " + last);
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}

package io.switchboard.channel.email;

import io.switchboard.contract.Channel;
import io.switchboard.contract.DeliveryReport;
import io.switchboard.contract.OutboundCommand;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.StaticListableBeanFactory;

import java.net.URI;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** SMTP outcomes against a scripted server: 4xx is retried, 5xx fails at once with the server's words. */
class EmailSenderTest {

    static final Instant NOW = Instant.parse("2025-03-12T15:46:45Z");
    final List<Long> waits = new ArrayList<>();

    EmailSender sender(int port) {
        EmailProperties.Account account = new EmailProperties.Account(null, URI.create("smtp://127.0.0.1:" + port),
                "Support <support@support.example>", null, null, null);
        EmailProperties props = new EmailProperties(Map.of("default", account), 3, 0, null, null);
        StaticListableBeanFactory beans = new StaticListableBeanFactory();
        beans.addBean("clock", Clock.fixed(NOW, ZoneOffset.UTC));
        beans.addBean("sleeper", (EmailSender.Sleeper) waits::add);
        return new EmailSender(props, new EmailClient(), null, beans.getBeanProvider(Clock.class),
                beans.getBeanProvider(EmailSender.Sleeper.class));
    }

    static OutboundCommand command(String messageId) {
        return new OutboundCommand(OutboundCommand.SCHEMA_VERSION, messageId, Channel.EMAIL, "default", "conv-1",
                Map.of("email", "customer@example.org"), "Привет! The answer.", "Квота", null,
                List.of("<root@customer.example>", "last@customer.example"), List.of(), NOW, "agent");
    }

    @Test
    void a5xxFailsAtOnceWithTheServersText() throws Exception {
        try (FakeSmtpServer smtp = new FakeSmtpServer(n -> "550 5.1.1 <customer@example.org>: Recipient address rejected: User unknown")) {
            DeliveryReport report = sender(smtp.port()).send(command("m-550"));
            assertThat(report.status()).isEqualTo(DeliveryReport.Status.FAILED);
            assertThat(report.failureReason()).isEqualTo("550 5.1.1 <customer@example.org>: Recipient address rejected: User unknown");
            assertThat(report.attempts()).isEqualTo(1);
            assertThat(smtp.messages).isEmpty();
        }
    }

    @Test
    void a4xxIsRetriedUntilTheServerTakesIt() throws Exception {
        try (FakeSmtpServer smtp = new FakeSmtpServer(n -> n < 3 ? "451 4.7.1 Greylisted, try again later" : "250 2.1.5 OK")) {
            DeliveryReport report = sender(smtp.port()).send(command("m-451"));
            assertThat(report.status()).isEqualTo(DeliveryReport.Status.SENT);
            assertThat(report.attempts()).isEqualTo(3);
            assertThat(waits).hasSize(2);
            assertThat(report.externalId()).startsWith("sb.m-451.").endsWith("@support.example");
            assertThat(EmailIds.answered(report.externalId())).isEqualTo("last@customer.example");
            assertThat(smtp.messages).singleElement().satisfies(data -> assertThat(data)
                    .contains("Message-ID: <" + report.externalId() + ">")
                    .contains("In-Reply-To: <last@customer.example>")
                    .contains("References: <root@customer.example> <last@customer.example>")
                    .contains("Subject: =?UTF-8?"));
        }
    }

    @Test
    void a4xxThatNeverClearsFailsWithTheLastReply() throws Exception {
        try (FakeSmtpServer smtp = new FakeSmtpServer(n -> "452 4.2.2 Mailbox full")) {
            DeliveryReport report = sender(smtp.port()).send(command("m-452"));
            assertThat(report.status()).isEqualTo(DeliveryReport.Status.FAILED);
            assertThat(report.failureReason()).isEqualTo("452 4.2.2 Mailbox full");
            assertThat(report.attempts()).isEqualTo(3);
        }
    }

    @Test
    void noServerIsTransientAndEndsFailedAfterTheAttempts() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        DeliveryReport report = sender(port).send(command("m-down"));
        assertThat(report.status()).isEqualTo(DeliveryReport.Status.FAILED);
        assertThat(report.failureReason()).startsWith("SMTP unavailable");
        assertThat(report.attempts()).isEqualTo(3);
    }

    @Test
    void attachmentsAreFetchedFromTheirUrlAndSentWithEncodedNames() throws Exception {
        com.sun.net.httpserver.HttpServer files = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
        files.createContext("/files/report", x -> {
            byte[] body = "quota report".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            x.sendResponseHeaders(200, body.length);
            x.getResponseBody().write(body);
            x.close();
        });
        files.createContext("/files/missing", x -> {
            x.sendResponseHeaders(404, -1);
            x.close();
        });
        files.start();
        String base = "http://127.0.0.1:" + files.getAddress().getPort();
        try (FakeSmtpServer smtp = new FakeSmtpServer(n -> "250 OK")) {
            OutboundCommand c = command("m-att");
            OutboundCommand withFile = new OutboundCommand(c.schemaVersion(), c.messageId(), c.channel(), c.account(),
                    c.conversationId(), c.recipient(), c.text(), c.subject(), c.inReplyTo(), c.references(),
                    List.of(new OutboundCommand.Attachment("отчёт.txt", "text/plain", 12, base + "/files/report")), NOW, "agent");
            DeliveryReport report = sender(smtp.port()).send(withFile);
            assertThat(report.status()).isEqualTo(DeliveryReport.Status.SENT);
            jakarta.mail.internet.MimeMessage sent = new jakarta.mail.internet.MimeMessage(
                    jakarta.mail.Session.getInstance(new java.util.Properties()),
                    new java.io.ByteArrayInputStream(smtp.messages.get(0).getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            jakarta.mail.Multipart mp = (jakarta.mail.Multipart) sent.getContent();
            assertThat(mp.getCount()).isEqualTo(2);
            assertThat(mp.getBodyPart(0).getContent().toString()).isEqualTo("Привет! The answer.");
            assertThat(mp.getBodyPart(1).getFileName()).isEqualTo("отчёт.txt");
            assertThat(mp.getBodyPart(1).getContent().toString()).isEqualTo("quota report");

            OutboundCommand missing = new OutboundCommand(c.schemaVersion(), "m-404", c.channel(), c.account(),
                    c.conversationId(), c.recipient(), c.text(), c.subject(), c.inReplyTo(), c.references(),
                    List.of(new OutboundCommand.Attachment("gone.pdf", "application/pdf", 1, base + "/files/missing")), NOW, "agent");
            DeliveryReport failed = sender(smtp.port()).send(missing);
            assertThat(failed.status()).isEqualTo(DeliveryReport.Status.FAILED);
            assertThat(failed.failureReason()).isEqualTo("attachment gone.pdf could not be fetched: HTTP 404");
            assertThat(smtp.messages).hasSize(1);
        } finally {
            files.stop(0);
        }
    }

    @Test
    void theSubjectKeepsTheThread() {
        assertThat(EmailClient.subject("Quota")).isEqualTo("Re: Quota");
        assertThat(EmailClient.subject("RE: Quota")).isEqualTo("RE: Quota");
        assertThat(EmailClient.subject(null)).isEqualTo("Re: your request");
    }

    @Test
    void ourIdsCarryTheAnsweredMessage() {
        String id = EmailIds.own("7f1c-uuid", "<abc@customer.example>", "support.example");
        assertThat(id).startsWith("sb.7f1c-uuid.").endsWith("@support.example");
        assertThat(EmailIds.answered(id)).isEqualTo("abc@customer.example");
        assertThat(EmailIds.own("m1", null, "support.example")).isEqualTo("sb.m1@support.example");
        assertThat(EmailIds.answered("sb.m1@support.example")).isNull();
        assertThat(EmailIds.threadRoot("<a@x> <b@x>", "<b@x>", "<c@x>", "f")).isEqualTo("a@x");
        assertThat(EmailIds.threadRoot(null, "<" + id + ">", "<c@x>", "f")).isEqualTo("abc@customer.example");
        assertThat(EmailIds.threadRoot(null, null, null, "f")).isEqualTo("f");
    }

    /**
     * inbox-api hands out signed, expiring links (ADR 0150): the query string is part of the
     * credential and is sent as given; a refused link (403: wrong or expired) fails the reply at
     * once, since trying again cannot help.
     */
    @Test
    void aSignedLinkIsFetchedWithItsQuery_andARefusedOneFailsAtOnce() throws Exception {
        com.sun.net.httpserver.HttpServer files = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
        List<String> queries = new java.util.concurrent.CopyOnWriteArrayList<>();
        files.createContext("/api/files/signed/", x -> {
            queries.add(x.getRequestURI().getRawQuery());
            boolean valid = "expires=1999999999&signature=Zm9v-YmFy_".equals(x.getRequestURI().getRawQuery());
            byte[] body = valid ? "%PDF-1.4 invoice".getBytes(java.nio.charset.StandardCharsets.US_ASCII)
                    : "{\"error\":\"the link has expired\"}".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            x.getResponseHeaders().add("Content-Type", valid ? "application/pdf" : "application/json");
            x.sendResponseHeaders(valid ? 200 : 403, body.length);
            x.getResponseBody().write(body);
            x.close();
        });
        files.start();
        String base = "http://127.0.0.1:" + files.getAddress().getPort() + "/api/files/signed/up-1";
        try (FakeSmtpServer smtp = new FakeSmtpServer(n -> "250 OK")) {
            OutboundCommand c = command("m-signed");
            OutboundCommand signed = new OutboundCommand(c.schemaVersion(), c.messageId(), c.channel(), c.account(),
                    c.conversationId(), c.recipient(), c.text(), c.subject(), c.inReplyTo(), c.references(),
                    List.of(new OutboundCommand.Attachment("invoice.pdf", "application/pdf", 16,
                            base + "?expires=1999999999&signature=Zm9v-YmFy_")), NOW, "agent");
            DeliveryReport report = sender(smtp.port()).send(signed);
            assertThat(report.status()).isEqualTo(DeliveryReport.Status.SENT);
            assertThat(smtp.messages).singleElement().satisfies(m -> assertThat(m).contains("invoice.pdf"));

            OutboundCommand stale = new OutboundCommand(c.schemaVersion(), "m-stale", c.channel(), c.account(),
                    c.conversationId(), c.recipient(), c.text(), c.subject(), c.inReplyTo(), c.references(),
                    List.of(new OutboundCommand.Attachment("invoice.pdf", "application/pdf", 16,
                            base + "?expires=1&signature=Zm9v-YmFy_")), NOW, "agent");
            DeliveryReport failed = sender(smtp.port()).send(stale);
            assertThat(failed.status()).isEqualTo(DeliveryReport.Status.FAILED);
            assertThat(failed.failureReason()).isEqualTo("attachment invoice.pdf could not be fetched: HTTP 403");
            assertThat(failed.attempts()).isEqualTo(1);
            assertThat(smtp.messages).hasSize(1);
            assertThat(queries).containsExactly("expires=1999999999&signature=Zm9v-YmFy_", "expires=1&signature=Zm9v-YmFy_");
        } finally {
            files.stop(0);
        }
    }
}

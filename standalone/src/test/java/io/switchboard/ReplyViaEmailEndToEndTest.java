package io.switchboard;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A Telegram customer answered through their email address (another identity of the same
 * contact), with a file: the email adapter downloads it through inbox-api's signed link, an SMTP
 * stand-in receives the mail with the file, and the reply ends sent in the Telegram conversation.
 */
class ReplyViaEmailEndToEndTest {

    static final String PASSWORD = "via-admin-password";
    static final String SECRET = "via-telegram-secret";

    @TempDir
    static Path data;
    static Smtp smtp;
    static FakeTelegramApi telegram;
    static ConfigurableApplicationContext app;
    static Http http;

    @BeforeAll
    static void start() throws Exception {
        smtp = new Smtp();
        telegram = new FakeTelegramApi();
        app = SwitchboardApplication.application().run("--server.port=0", "--INBOX_DATA_DIR=" + data,
                "--INBOX_ADMIN_PASSWORD=" + PASSWORD, "--INBOX_INSTANCE_ID=via",
                "--TELEGRAM_BOT_TOKEN=43:via-token", "--TELEGRAM_WEBHOOK_SECRET=" + SECRET, "--TELEGRAM_API_URL=" + telegram.url(),
                "--EMAIL_SMTP_URL=smtp://127.0.0.1:" + smtp.port(), "--EMAIL_FROM=Support <support@switchboard.example>",
                "--INBOX_FILE_URL_SECRET=via-link-secret");
        http = new Http("http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port"), "admin", PASSWORD);
        http.await(() -> http.up(), up -> up, Duration.ofSeconds(60));
    }

    @AfterAll
    static void stop() throws IOException {
        if (app != null) {
            app.close();
        }
        if (telegram != null) {
            telegram.close();
        }
        if (smtp != null) {
            smtp.close();
        }
    }

    @Test
    void aReplyViaTheContactsEmailCarriesTheUploadedFile_andEndsSentInTheTelegramConversation() throws Exception {
        String update = StandaloneEndToEndTest.fixture("telegram/zammad_private_text.json").replace("\"id\":111111", "\"id\":7501")
                .replace("Hello, I need your Help", "via: please mail me the invoice");
        assertThat(http.send("POST", "/webhooks/telegram/default", update, false, "X-Telegram-Bot-Api-Secret-Token", SECRET)
                .statusCode()).isEqualTo(200);
        JsonNode conversation = http.await(() -> {
            for (JsonNode item : http.api("GET", "/api/conversations", null).path("items")) {
                return http.api("GET", "/api/conversations/" + item.path("id").asString(), null);
            }
            return null;
        }, c -> c != null, Duration.ofSeconds(15));
        String id = conversation.path("id").asString();
        String contact = conversation.path("contact").path("id").asString();
        assertThat(http.send("POST", "/api/contacts/" + contact + "/identities", "{\"type\":\"email\",\"value\":\"anna@customer.example\"}",
                true).statusCode()).isEqualTo(201);

        byte[] pdf = "%PDF-1.4 invoice 2026-11".getBytes(StandardCharsets.US_ASCII);
        String ref = uploadPdf(pdf);
        HttpResponse<String> reply = http.send("POST", "/api/conversations/" + id + "/messages",
                "{\"text\":\"via: the invoice is attached\",\"attachments\":[\"" + ref + "\"],"
                        + "\"via\":{\"channel\":\"email\",\"identity\":\"anna@customer.example\"}}", true);
        assertThat(reply.statusCode()).as(reply.body()).isEqualTo(202);
        String messageId = Http.JSON.readTree(reply.body()).path("id").asString();

        JsonNode after = http.await(() -> http.api("GET", "/api/conversations/" + id, null),
                c -> StreamSupport.stream(c.path("messages").spliterator(), false)
                        .anyMatch(m -> m.path("id").asString().equals(messageId) && "sent".equals(m.path("deliveryStatus").asString())),
                Duration.ofSeconds(20));
        assertThat(after.path("channel").asString()).isEqualTo("telegram");
        JsonNode message = StreamSupport.stream(after.path("messages").spliterator(), false)
                .filter(m -> m.path("id").asString().equals(messageId)).findFirst().orElseThrow();
        assertThat(message.path("channel").asString()).isEqualTo("email");
        assertThat(message.path("meta").path("viaIdentity").asString()).isEqualTo("email:anna@customer.example");

        assertThat(smtp.messages).singleElement().satisfies(data -> {
            jakarta.mail.internet.MimeMessage mail = new jakarta.mail.internet.MimeMessage(
                    jakarta.mail.Session.getInstance(new java.util.Properties()),
                    new java.io.ByteArrayInputStream(data.getBytes(StandardCharsets.UTF_8)));
            assertThat(mail.getRecipients(jakarta.mail.Message.RecipientType.TO)[0].toString()).isEqualTo("anna@customer.example");
            jakarta.mail.Multipart parts = (jakarta.mail.Multipart) mail.getContent();
            assertThat(parts.getBodyPart(0).getContent().toString()).isEqualTo("via: the invoice is attached");
            assertThat(parts.getBodyPart(1).getFileName()).isEqualTo("invoice.pdf");
            assertThat(parts.getBodyPart(1).getInputStream().readAllBytes()).isEqualTo(pdf);
        });
        assertThat(telegram.calls).noneSatisfy(call -> assertThat(call.body()).contains("via: the invoice is attached"));
    }

    static String uploadPdf(byte[] pdf) throws Exception {
        String boundary = "via-boundary";
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"invoice.pdf\"\r\n"
                + "Content-Type: application/pdf\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        body.writeBytes(pdf);
        body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port") + "/api/files"))
                .header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(("admin:" + PASSWORD).getBytes(StandardCharsets.UTF_8)))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return Http.JSON.readTree(r.body()).path("ref").asString();
    }

    /** A minimal SMTP server that accepts every message and records its DATA. */
    static final class Smtp implements AutoCloseable {
        final List<String> messages = new CopyOnWriteArrayList<>();
        private final ServerSocket socket;

        Smtp() throws IOException {
            socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread t = new Thread(this::serve, "via-smtp");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        private void serve() {
            while (!socket.isClosed()) {
                try (Socket s = socket.accept()) {
                    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
                    OutputStream out = s.getOutputStream();
                    write(out, "220 via.test ESMTP");
                    String line;
                    while ((line = in.readLine()) != null) {
                        String cmd = line.toUpperCase();
                        if (cmd.startsWith("EHLO") || cmd.startsWith("HELO")) {
                            write(out, "250-via.test\r\n250 8BITMIME");
                        } else if (cmd.startsWith("DATA")) {
                            write(out, "354 go ahead");
                            StringBuilder data = new StringBuilder();
                            String d;
                            while ((d = in.readLine()) != null && !d.equals(".")) {
                                data.append(d.startsWith("..") ? d.substring(1) : d).append("\r\n");
                            }
                            messages.add(data.toString());
                            write(out, "250 2.0.0 queued");
                        } else if (cmd.startsWith("QUIT")) {
                            write(out, "221 bye");
                            break;
                        } else {
                            write(out, "250 OK");
                        }
                    }
                } catch (IOException e) {
                    // closed, or the client went away
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
}

package io.switchboard.channel.webform;

import io.switchboard.channel.webform.ContactSubmission.Upload;
import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.InboundEnvelope;
import jakarta.servlet.http.HttpServletRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.CacheControl;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.CrossOrigin;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.multipart.MultipartFile;
import org.springframework.web.multipart.MultipartHttpServletRequest;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The feedback form: {@code GET /contact} (HTML, no JavaScript needed), {@code POST /contact}
 * (multipart; 303 to a thank-you page once the submission is durably in Kafka, or the form again
 * with field errors), the embeddable {@code /contact/embed} with {@code /contact/embed.js}, and
 * {@code POST /contact.json} for apps. Outside /api, so no agent login is needed.
 */
@RestController
class WebformController {

    private static final Logger log = LoggerFactory.getLogger(WebformController.class);
    private static final MediaType HTML = new MediaType("text", "html", StandardCharsets.UTF_8);

    private final WebformProperties properties;
    private final WebformPublisher publisher;
    private final WebformRateLimiter rateLimiter;
    private final Clock clock;

    WebformController(WebformProperties properties, WebformPublisher publisher, WebformRateLimiter rateLimiter, ObjectProvider<Clock> clock) {
        this.properties = properties;
        this.publisher = publisher;
        this.rateLimiter = rateLimiter;
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    @GetMapping("/contact")
    ResponseEntity<String> form() {
        if (!properties.enabled()) {
            return notFound();
        }
        return html(HttpStatus.OK, WebformPages.form(empty(), Map.of(), false, properties, null), false);
    }

    @GetMapping("/contact/embed")
    ResponseEntity<String> embed() {
        if (!properties.enabled()) {
            return notFound();
        }
        return html(HttpStatus.OK, WebformPages.form(empty(), Map.of(), true, properties, null), true);
    }

    @GetMapping(path = "/contact/embed.js", produces = "text/javascript;charset=UTF-8")
    ResponseEntity<String> embedScript() {
        if (!properties.enabled()) {
            return ResponseEntity.notFound().build();
        }
        return ResponseEntity.ok().cacheControl(CacheControl.maxAge(java.time.Duration.ofHours(1)))
                .contentType(new MediaType("text", "javascript", StandardCharsets.UTF_8)).body(WebformPages.embedScript());
    }

    @GetMapping("/contact/thanks")
    ResponseEntity<String> thanks(@RequestParam(required = false) String id, @RequestParam(required = false) String embed) {
        if (!properties.enabled()) {
            return notFound();
        }
        boolean embedded = "1".equals(embed);
        return html(HttpStatus.OK, WebformPages.thanks(id, embedded), embedded);
    }

    @PostMapping("/contact")
    ResponseEntity<String> submit(HttpServletRequest request) {
        if (!properties.enabled()) {
            return notFound();
        }
        boolean embedded = "1".equals(request.getParameter("embed"));
        boolean wantsJson = acceptsJsonOnly(request);
        String client = clientAddress(request);
        if (!rateLimiter.allow(client)) {
            log.warn("web form: rate limit reached for a client; answering 429");
            return tooMany(client, wantsJson, embedded);
        }
        List<Upload> uploads = new ArrayList<>();
        if (request instanceof MultipartHttpServletRequest multipart) {
            for (String field : new String[]{"attachments", "attachments[]"}) {
                for (MultipartFile file : multipart.getFiles(field)) {
                    if (file.isEmpty() && (file.getOriginalFilename() == null || file.getOriginalFilename().isBlank())) {
                        continue; // the browser's empty part when no file was chosen
                    }
                    try {
                        uploads.add(new Upload(ContactSubmission.cleanFileName(file.getOriginalFilename()), file.getContentType(), file.getBytes()));
                    } catch (IOException e) {
                        return html(HttpStatus.BAD_REQUEST, WebformPages.form(empty(), Map.of(), embedded, properties,
                                "Не удалось прочитать файл / Could not read an attached file"), embedded);
                    }
                }
            }
        }
        ContactSubmission s = new ContactSubmission(request.getParameter("email"), request.getParameter("name"),
                request.getParameter("login"), request.getParameter("project"), request.getParameter("topic"),
                request.getParameter("message"), request.getParameter("website"), uploads);
        if (s.isBot()) {
            log.warn("web form: honeypot field filled in; submission rejected");
            return wantsJson ? json(HttpStatus.BAD_REQUEST, Map.of("ok", false, "error", "submission rejected"))
                    : html(HttpStatus.BAD_REQUEST, WebformPages.form(empty(), Map.of(), embedded, properties,
                    "Обращение отклонено / Submission rejected"), embedded);
        }
        Map<String, String> errors = s.errors(properties);
        if (!errors.isEmpty()) {
            return wantsJson ? json(HttpStatus.BAD_REQUEST, Map.of("ok", false, "errors", errors))
                    : html(HttpStatus.BAD_REQUEST, WebformPages.form(s, errors, embedded, properties, null), embedded);
        }
        String id = UUID.randomUUID().toString();
        if (!publish(id, s, embedded ? "embed" : "form")) {
            String notice = "Не удалось отправить, попробуйте ещё раз / Could not send, please try again";
            return wantsJson ? json(HttpStatus.SERVICE_UNAVAILABLE, Map.of("ok", false, "error", "broker unavailable; try again"))
                    : html(HttpStatus.SERVICE_UNAVAILABLE, WebformPages.form(s, Map.of(), embedded, properties, notice), embedded);
        }
        if (wantsJson) {
            return json(HttpStatus.ACCEPTED, Map.of("ok", true, "id", id));
        }
        return ResponseEntity.status(HttpStatus.SEE_OTHER)
                .location(URI.create("/contact/thanks?id=" + id + (embedded ? "&embed=1" : ""))).build();
    }

    /**
     * For apps: the same fields as JSON, files as {@code attachments: [{"name", "data" (base64)}]}.
     * 202 {@code {"ok":true,"id":...}}, 400 with {@code errors} by field, 429, 503.
     */
    @CrossOrigin(origins = "*")
    @PostMapping(path = "/contact.json", produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<String> submitJson(HttpServletRequest request) {
        if (!properties.enabled()) {
            return json(HttpStatus.NOT_FOUND, Map.of("ok", false, "error", "the web form is disabled"));
        }
        String client = clientAddress(request);
        if (!rateLimiter.allow(client)) {
            return tooMany(client, true, false);
        }
        long limit = properties.maxTotalBytes() * 4 / 3 + (1 << 20);
        JsonNode body;
        try (InputStream in = request.getInputStream()) {
            byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
            if (bytes.length > limit) {
                return json(HttpStatus.PAYLOAD_TOO_LARGE, Map.of("ok", false, "error", "request larger than " + limit + " bytes"));
            }
            body = ContractJson.mapper().readTree(bytes);
        } catch (IOException | JacksonException e) {
            return json(HttpStatus.BAD_REQUEST, Map.of("ok", false, "error", "body is not JSON"));
        }
        if (body == null || !body.isObject()) {
            return json(HttpStatus.BAD_REQUEST, Map.of("ok", false, "error", "expected a JSON object"));
        }
        List<Upload> uploads = new ArrayList<>();
        for (JsonNode a : body.path("attachments")) {
            try {
                uploads.add(new Upload(ContactSubmission.cleanFileName(a.path("name").asString("file")),
                        a.path("contentType").asString(null), Base64.getDecoder().decode(a.path("data").asString(""))));
            } catch (IllegalArgumentException e) {
                return json(HttpStatus.BAD_REQUEST, Map.of("ok", false, "errors", Map.of("attachments", "data is not base64")));
            }
        }
        ContactSubmission s = new ContactSubmission(text(body, "email"), text(body, "name"), text(body, "login"),
                text(body, "project"), text(body, "topic"), text(body, "message"), text(body, "website"), uploads);
        if (s.isBot()) {
            return json(HttpStatus.BAD_REQUEST, Map.of("ok", false, "error", "submission rejected"));
        }
        Map<String, String> errors = s.errors(properties);
        if (!errors.isEmpty()) {
            return json(HttpStatus.BAD_REQUEST, Map.of("ok", false, "errors", errors));
        }
        String id = UUID.randomUUID().toString();
        if (!publish(id, s, "api")) {
            return json(HttpStatus.SERVICE_UNAVAILABLE, Map.of("ok", false, "error", "broker unavailable; try again"));
        }
        return json(HttpStatus.ACCEPTED, Map.of("ok", true, "id", id));
    }

    /** The submission as the JSON document the router's WebformNormalizer reads (docs/channels/webform.md). */
    static String document(String id, Instant at, ContactSubmission s, String source) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("submissionId", id);
        doc.put("submittedAt", at.toString());
        doc.put("source", source);
        doc.put("email", s.email());
        doc.put("name", s.name());
        doc.put("login", s.login());
        doc.put("project", s.project());
        doc.put("topic", s.topicOrDefault());
        doc.put("topicLabel", s.topicLabel());
        doc.put("message", s.message());
        List<Map<String, Object>> files = new ArrayList<>();
        for (Upload u : s.uploads()) {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("name", u.name());
            f.put("contentType", ContactSubmission.contentTypeOf(u.name()));
            f.put("size", u.bytes().length);
            f.put("data", Base64.getEncoder().encodeToString(u.bytes()));
            files.add(f);
        }
        doc.put("attachments", files);
        return ContractJson.toJson(doc);
    }

    private boolean publish(String id, ContactSubmission s, String source) {
        Instant now = clock.instant();
        String account = properties.account();
        String key = "webform:" + account + ":" + id;
        InboundEnvelope envelope = InboundEnvelope.ofText(key, Channel.WEBFORM, account, Map.of("submission_id", id), now, key,
                MediaType.APPLICATION_JSON_VALUE, document(id, now, s, source));
        try {
            publisher.publish(envelope);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (Exception e) {
            log.warn("web form submission {} not stored, answering 503: {}", id, e.toString());
            return false;
        }
    }

    private String clientAddress(HttpServletRequest request) {
        if (properties.trustForwardedFor()) {
            String forwarded = request.getHeader("X-Forwarded-For");
            if (forwarded != null && !forwarded.isBlank()) {
                return forwarded.split(",")[0].trim();
            }
        }
        return request.getRemoteAddr();
    }

    private ResponseEntity<String> tooMany(String client, boolean wantsJson, boolean embedded) {
        long retry = rateLimiter.retryAfterSeconds(client);
        if (wantsJson) {
            return ResponseEntity.status(HttpStatus.TOO_MANY_REQUESTS).header(HttpHeaders.RETRY_AFTER, String.valueOf(retry))
                    .contentType(MediaType.APPLICATION_JSON).body(ContractJson.toJson(Map.of("ok", false, "error", "too many submissions; try later")));
        }
        ResponseEntity<String> page = html(HttpStatus.TOO_MANY_REQUESTS, WebformPages.form(empty(), Map.of(), embedded, properties,
                "Слишком много обращений, попробуйте позже / Too many submissions, please try again later"), embedded);
        return ResponseEntity.status(page.getStatusCode()).headers(page.getHeaders())
                .header(HttpHeaders.RETRY_AFTER, String.valueOf(retry)).body(page.getBody());
    }

    private static boolean acceptsJsonOnly(HttpServletRequest request) {
        String accept = request.getHeader(HttpHeaders.ACCEPT);
        return accept != null && accept.contains("application/json") && !accept.contains("text/html");
    }

    private static String text(JsonNode body, String field) {
        JsonNode n = body.path(field);
        return n.isValueNode() ? n.asString("") : "";
    }

    private static ContactSubmission empty() {
        return new ContactSubmission("", "", "", "", "", "", "", List.of());
    }

    private ResponseEntity<String> html(HttpStatus status, String page, boolean embeddable) {
        ResponseEntity.BodyBuilder b = ResponseEntity.status(status).contentType(HTML).cacheControl(CacheControl.noStore());
        if (embeddable) {
            // CSP frame-ancestors takes precedence over X-Frame-Options in browsers that know both.
            b.header("Content-Security-Policy", "frame-ancestors " + properties.frameAncestors());
        } else {
            b.header("Content-Security-Policy", "frame-ancestors 'self'");
        }
        return b.body(page);
    }

    private static ResponseEntity<String> json(HttpStatus status, Map<String, ?> body) {
        return ResponseEntity.status(status).contentType(MediaType.APPLICATION_JSON).body(ContractJson.toJson(body));
    }

    private static ResponseEntity<String> notFound() {
        return ResponseEntity.status(HttpStatus.NOT_FOUND).contentType(new MediaType("text", "plain", StandardCharsets.UTF_8))
                .body("the web form is disabled");
    }
}

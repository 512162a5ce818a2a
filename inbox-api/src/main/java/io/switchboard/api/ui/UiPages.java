package io.switchboard.api.ui;

import jakarta.servlet.http.HttpServletRequest;
import org.springframework.core.io.ClassPathResource;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.core.Authentication;
import org.springframework.security.web.csrf.CsrfToken;
import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.util.HtmlUtils;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The three pages of the web UI (ADR 0140): static HTML shells from {@code switchboard-ui/},
 * into which the server writes only the CSRF token and the user name (HTML-escaped). Everything
 * else is drawn in the browser by /ui/*.js from the JSON API and the live stream.
 */
@Controller
class UiPages {

    private final Map<String, String> shells = new ConcurrentHashMap<>();

    @GetMapping("/")
    ResponseEntity<String> workspace(HttpServletRequest request, Authentication user) {
        return page("workspace.html", request, user);
    }

    @GetMapping("/dashboard")
    ResponseEntity<String> dashboard(HttpServletRequest request, Authentication user) {
        return page("dashboard.html", request, user);
    }

    @GetMapping("/login")
    ResponseEntity<String> login(HttpServletRequest request) {
        return page("login.html", request, null);
    }

    private ResponseEntity<String> page(String name, HttpServletRequest request, Authentication user) {
        CsrfToken csrf = (CsrfToken) request.getAttribute(CsrfToken.class.getName());
        String html = shell(name)
                .replace("__CSRF_HEADER__", csrf == null ? "" : HtmlUtils.htmlEscape(csrf.getHeaderName()))
                .replace("__CSRF_PARAM__", csrf == null ? "" : HtmlUtils.htmlEscape(csrf.getParameterName()))
                .replace("__CSRF_TOKEN__", csrf == null ? "" : HtmlUtils.htmlEscape(csrf.getToken()))
                .replace("__USER__", user == null ? "" : HtmlUtils.htmlEscape(user.getName()));
        return ResponseEntity.ok().contentType(new MediaType(MediaType.TEXT_HTML, StandardCharsets.UTF_8))
                .header("Cache-Control", "no-store").body(html);
    }

    private String shell(String name) {
        return shells.computeIfAbsent(name, n -> {
            try (InputStream in = new ClassPathResource("switchboard-ui/" + n).getInputStream()) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }
}

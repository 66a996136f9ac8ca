//! `qorgan inspect`: what a component or a pack contains.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use qorgan::engine::PluginInfo;
use qorgan::pack::Pack;

pub(super) fn run(target: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let engine = crate::engine()?;
    if target.is_dir() {
        let pack = Pack::read(target)?;
        let prepared = engine.prepare(&pack)?;
        let info = prepared.info();
        let effective: std::collections::BTreeMap<
            String,
            std::collections::BTreeMap<String, String>,
        > = prepared
            .plugin_settings()
            .into_iter()
            .map(|p| (p.id, p.params.into_iter().collect()))
            .collect();
        if json {
            let lists: Vec<serde_json::Value> = pack
                .manifest
                .lists
                .iter()
                .map(|l| {
                    serde_json::json!({
                        "name": l.name, "file": l.file, "sha256": l.sha256,
                        "entries": pack.lists.get(&l.name).map(|x| x.len()),
                    })
                })
                .collect();
            let out = serde_json::json!({
                "pack": info,
                "expires_at": pack.manifest.expires_at,
                "failure_action": pack.manifest.failure_action,
                "thresholds": pack.manifest.thresholds,
                "limits": pack.manifest.limits,
                "lists": lists,
                "parameters": effective,
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
            return Ok(ExitCode::SUCCESS);
        }
        let m = &pack.manifest;
        println!(
            "pack {} {} (serial {})",
            info.name, info.version, info.serial
        );
        println!("  manifest sha256 {}", info.digest);
        if let Some(expires) = &m.expires_at {
            println!("  expires at      {expires}");
        }
        println!("  failure action  {}", m.failure_action);
        println!(
            "  limits          {} ms per call, {} MiB per plugin",
            m.limits.call_timeout_ms, m.limits.memory_mib
        );
        for l in &m.lists {
            println!(
                "  list {:<20} {} entries ({})",
                l.name,
                pack.lists.get(&l.name).map_or(0, |x| x.len()),
                l.file
            );
        }
        for plugin in &info.plugins {
            print_plugin(plugin, effective.get(&plugin.id));
        }
    } else {
        let bytes =
            std::fs::read(target).with_context(|| format!("cannot read {}", target.display()))?;
        let label = target.display().to_string();
        let info = engine.inspect(&label, &bytes)?;
        if json {
            println!("{}", serde_json::to_string_pretty(&info)?);
        } else {
            print_plugin(&info, None);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints a plugin; `values` are the effective parameter values a pack
/// gives it (the pack's value, else the declared default).
fn print_plugin(p: &PluginInfo, values: Option<&std::collections::BTreeMap<String, String>>) {
    println!("plugin {} {}", p.id, p.version);
    println!("  {}", p.description);
    println!("  sha256 {}", p.sha256);
    println!("  imports: {}", p.imports.join(", "));
    if let Some(toolchain) = &p.toolchain {
        println!("  built with:");
        for line in toolchain.lines() {
            println!("    {line}");
        }
    }
    if !p.lists.is_empty() {
        println!("  reads lists: {}", p.lists.join(", "));
    }
    println!("  parameters:");
    for param in &p.parameters {
        let value = match values.and_then(|v| v.get(&param.name)) {
            Some(value) if *value != param.default => {
                format!("value {value:<12} (default {})", param.default)
            }
            Some(value) => format!("value {value:<12} (the default)"),
            None => format!("default {:<12}", param.default),
        };
        println!(
            "    {:<28} {:<8} {value} {}",
            param.name,
            format!("{:?}", param.ty).to_lowercase(),
            param.description
        );
    }
    println!("  finding codes:");
    for code in &p.codes {
        println!(
            "    {:<28} {:<7} {}",
            code.code, code.action, code.description
        );
    }
}
